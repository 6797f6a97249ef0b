/**
 * Replies and errors in the two shapes real ARM uses (docs/architecture.md §8):
 * the ARM envelope `{"error":{code,message}}` for what ARM itself refuses (auth, api-version, unknown resources,
 * restorable-resource lookups), and the Cosmos resource provider's top-level `{code,message}` for what the RP refuses
 * (missing databases/containers, bad container definitions, restore conflicts). Product code must cope with both.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type ErrorShape = 'arm' | 'rp';

/** A refusal that becomes an HTTP error reply, or the `error` of a failed long-running operation. */
export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly shape: ErrorShape = 'rp'
  ) {
    super(message);
    this.name = 'ArmError';
  }

  toReply(): Reply {
    const detail = { code: this.code, message: this.message };
    return { status: this.status, body: this.shape === 'arm' ? { error: detail } : detail };
  }
}

/** ARM's own refusal (envelope shape). */
export function armError(status: number, code: string, message: string): ArmError {
  return new ArmError(status, code, message, 'arm');
}

/** The resource provider's refusal (top-level shape). */
export function rpError(status: number, code: string, message: string): ArmError {
  return new ArmError(status, code, message, 'rp');
}

const RP_SDK = 'SDK: Microsoft.Azure.Documents.Common/2.14.0';

/**
 * The RP's 404 for a missing database or container: top-level `{code, message}` whose message nests the data-plane
 * error, exactly as real Azure answers (§7), so callers are tested against the awkward real shape.
 */
export function rpNotFound(requestUri: string): ArmError {
  const dataPlane = JSON.stringify({
    Errors: ['Resource Not Found. Learn more: https://aka.ms/cosmosdb-tsg-not-found'],
  });
  const inner = JSON.stringify({
    code: 'NotFound',
    message: `Message: ${dataPlane}\r\nActivityId: ${randomUUID()}, Request URI: ${requestUri}, RequestStats: , ${RP_SDK}`,
  });
  return rpError(404, 'NotFound', `Message: ${inner}, Request URI: ${requestUri}, RequestStats: , ${RP_SDK}`);
}

export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw armError(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.');
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
