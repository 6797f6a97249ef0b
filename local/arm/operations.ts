/**
 * Long-running operations the way the Cosmos RP runs them (Microsoft.DocumentDB REST API): the request answers 202 at once;
 * the operation is Enqueued, then Dequeued, and after the configured delay its change is applied to the emulator and
 * it ends Succeeded or Failed. The work runs on a timer, not on polls, so it completes even when nobody polls
 * (a client killed mid-wait finds the result later, as with real Azure).
 */
import { randomUUID } from 'node:crypto';
import { ArmError, type Reply } from './http';

export type OperationStatus = 'Enqueued' | 'Dequeued' | 'Succeeded' | 'Failed';

export interface Operation {
  id: string;
  /** The resource it acts on (one operation at a time per resource). */
  resourceKey: string;
  status: OperationStatus;
  startTime: Date;
  endTime?: Date;
  error?: { code: string; message: string; httpStatus: number };
  /** What the operationResults (Location) URL answers once the operation succeeded. */
  result?: Reply;
}

/** The work of an operation: applies the change and returns the final result (the resource, or nothing). */
export type OperationWork = () => Promise<Reply | undefined>;

export class Operations {
  private readonly operations = new Map<string, Operation>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  /** The operation in progress on a resource, if any. */
  inProgress(resourceKey: string): Operation | undefined {
    for (const operation of this.operations.values()) {
      if (operation.resourceKey === resourceKey && !isTerminal(operation.status)) return operation;
    }
    return undefined;
  }

  get(id: string): Operation | undefined {
    return this.operations.get(id);
  }

  start(resourceKey: string, delayMs: number, work: OperationWork): Operation {
    const operation: Operation = { id: randomUUID(), resourceKey, status: 'Enqueued', startTime: new Date() };
    this.operations.set(operation.id, operation);
    this.after(Math.floor(delayMs / 3), () => {
      if (operation.status === 'Enqueued') operation.status = 'Dequeued';
    });
    this.after(delayMs, () => {
      operation.status = 'Dequeued';
      const done = this.run(operation, work);
      this.running.add(done);
      void done.finally(() => this.running.delete(done));
    });
    return operation;
  }

  /** Stops pending operations (they never run) and waits for those already applying their change. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }

  private after(ms: number, callback: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      callback();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private async run(operation: Operation, work: OperationWork): Promise<void> {
    try {
      operation.result = (await work()) ?? { status: 204 };
      operation.status = 'Succeeded';
    } catch (err) {
      operation.error =
        err instanceof ArmError
          ? { code: err.code, message: err.message, httpStatus: err.status }
          : { code: 'InternalServerError', message: err instanceof Error ? err.message : String(err), httpStatus: 500 };
      operation.status = 'Failed';
    } finally {
      operation.endTime = new Date();
    }
  }
}

function isTerminal(status: OperationStatus): boolean {
  return status === 'Succeeded' || status === 'Failed';
}
