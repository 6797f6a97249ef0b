/**
 * Errors the CLI prints as one line (and a hint), never a stack trace: a platform engineer reads what is wrong and
 * what to do next.
 */
import { ServiceError, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';

export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly hint?: string,
    /** Process exit code. */
    readonly exitCode = 1
  ) {
    super(message);
  }
}

/** The innermost failure message: an activity's ApplicationFailure rather than "Activity task failed". */
export function rootMessage(err: unknown): string {
  let current: unknown = err;
  let message = err instanceof Error ? err.message : String(err);
  while (current instanceof TemporalFailure || current instanceof WorkflowFailedError) {
    if (current instanceof ApplicationFailure || !(current as Error).cause) message = (current as Error).message;
    current = (current as Error).cause;
    if (current instanceof Error) message = current.message;
  }
  return message;
}

/** One line for any error, plus a hint line when we know what to do about it. */
export function describeError(err: unknown, temporalAddress?: string): { message: string; hint?: string } {
  if (err instanceof CliError) return { message: err.message, hint: err.hint };
  if (err instanceof WorkflowNotFoundError) {
    return { message: `no run found: ${err.message}`, hint: 'list runs with `npm run migrate -- status`' };
  }
  if (err instanceof ServiceError || isConnectError(err)) {
    const text = err instanceof Error ? err.message : String(err);
    if (/UNAVAILABLE|ECONNREFUSED|connect|deadline|DEADLINE_EXCEEDED|Failed to connect/i.test(text)) {
      return {
        message: `cannot reach Temporal at ${temporalAddress ?? 'TEMPORAL_ADDRESS'}: ${firstLine(text)}`,
        hint: 'is the stack up? (npm run stack -- up), or set TEMPORAL_ADDRESS',
      };
    }
    return { message: `Temporal said: ${firstLine(text)}` };
  }
  if (err instanceof WorkflowFailedError) return { message: `the run failed: ${rootMessage(err)}` };
  return { message: firstLine(err instanceof Error ? err.message : String(err)) };
}

function isConnectError(err: unknown): boolean {
  return err instanceof Error && /TransportError|ECONNREFUSED|Failed to connect/i.test(`${err.name} ${err.message}`);
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}
