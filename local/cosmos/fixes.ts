/**
 * Fixes applied in front of the stock server, on the request (docs/architecture.md §6):
 * - transactional batch: the batch partition key travels only in the header, which the server never reads for the
 *   operations (500 "Failed to parse x-ms-documentdb-partitionkey"), and a failing batch is not rolled back;
 * - conditional patch: the server lower-cases the predicate, so `c.tenantId = 'T1'` never matches.
 */
import type { Dispatch, RawRequest } from './dispatch';
import { fixEnabled } from './fix-flags';
import { patchBody } from './batch-patch';
import { serverRequire } from './server-require';
import type { BatchOperation, BatchResult } from './ru-model';

/** Copies the batch's header partition key into operations that have none. */
export function fillBatchPartitionKeys(ops: BatchOperation[], headerPk: string | undefined): void {
  if (headerPk === undefined || !fixEnabled('batch')) return;
  for (const op of ops) if (op.partitionKey === undefined) op.partitionKey = headerPk;
}

const PRECONDITION_FAILED = 'Operation cannot be performed because one of the specified precondition is not met.';

/**
 * Checks an atomic batch against the current documents before anything is written. Returns the Cosmos answer for a
 * failing batch (the failing operation's status, 424 for every other one) or undefined when it can run.
 * The check and the execution are separate steps: a concurrent write in between is not covered.
 */
export async function precheckAtomicBatch(
  dispatch: Dispatch,
  docsUrl: string,
  ops: BatchOperation[]
): Promise<BatchResult[] | undefined> {
  if (!fixEnabled('batch')) return undefined;
  // Known state per document within the batch; etag null: written earlier in this batch (a new, unknown etag).
  const state = new Map<string, { exists: boolean; etag: string | null; body?: Record<string, unknown> }>();
  const current = async (id: string, pk: string | undefined) => {
    const key = `${pk ?? ''}\u0000${id}`;
    let known = state.get(key);
    if (!known) {
      const res = await dispatch({
        method: 'GET',
        url: `${docsUrl}/${encodeURIComponent(id)}`,
        // enablecrosspartition takes the server's plain lookup (its header-checking path throws on a missing doc).
        headers: {
          'x-ms-documentdb-query-enablecrosspartition': 'true',
          ...(pk === undefined ? {} : { 'x-ms-documentdb-partitionkey': pk }),
        },
        body: '',
      });
      if (res.status === 200) {
        const body = JSON.parse(res.body) as Record<string, unknown> & { _etag: string };
        known = { exists: true, etag: body._etag, body };
      } else known = { exists: false, etag: null };
      state.set(key, known);
    }
    return known;
  };

  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const id = op.id ?? (op.resourceBody as { id?: string } | undefined)?.id;
    if (typeof id !== 'string') continue; // malformed: the server answers 400
    const doc = await current(id, op.partitionKey);
    const etagMismatch = op.ifMatch !== undefined && doc.exists && doc.etag !== op.ifMatch;
    let status = 0;
    switch (op.operationType) {
      case 'Create':
        if (doc.exists) status = 409;
        else Object.assign(doc, { exists: true, etag: null });
        break;
      case 'Upsert':
        if (etagMismatch) status = 412;
        else Object.assign(doc, { exists: true, etag: null });
        break;
      case 'Replace':
        if (!doc.exists) status = 404;
        else if (etagMismatch) status = 412;
        else doc.etag = null;
        break;
      case 'Delete':
        if (!doc.exists) status = 404;
        else if (etagMismatch) status = 412;
        else Object.assign(doc, { exists: false, etag: null });
        break;
      case 'Read':
        if (!doc.exists) status = 404;
        break;
      case 'Patch':
        if (!doc.exists) status = 404;
        else if (etagMismatch) status = 412;
        else if (doc.etag !== null && doc.body && !conditionHolds(doc.body, op)) status = 412;
        else doc.etag = null;
        break;
      default:
        break;
    }
    if (status !== 0) {
      return ops.map((_, j) =>
        j === i
          ? {
              statusCode: status,
              requestCharge: 1,
              ...(status === 412 ? { resourceBody: { code: 'PreconditionFailed', message: PRECONDITION_FAILED } } : {}),
            }
          : { statusCode: 424, requestCharge: 0 }
      );
    }
  }
  return undefined;
}

/**
 * Whether a Patch operation's condition holds for the document as it is now (checked only while the batch has not
 * changed the document before it; the server checks it again when it runs), with the server's own query engine.
 */
function conditionHolds(doc: Record<string, unknown>, op: BatchOperation): boolean {
  const { condition } = patchBody(op);
  if (condition === undefined) return true;
  const compile = serverRequire<{ default: (sql: string) => CompiledQuery }>('@zeit/cosmosdb-query').default;
  try {
    const rows = compile(rewritePatchCondition(condition)).exec([doc], {
      parameters: [{ name: '@id', value: doc.id }],
    }).result;
    return rows.length > 0;
  } catch {
    return true; // an invalid condition: the server answers it (400) when the operation runs
  }
}

interface CompiledQuery {
  exec(docs: unknown[], options: { parameters: unknown[] }): { result: unknown[] };
}

/**
 * Rewrites a conditional patch's `FROM c WHERE <predicate>` into a full query the server runs as is
 * (`SELECT * FROM c WHERE c.id = @id AND (<predicate>)`, the server binds @id), so the predicate keeps its case and
 * is checked against the target document only.
 */
export function fixPatchCondition(request: RawRequest): RawRequest {
  if (!fixEnabled('patch')) return request;
  let body: unknown;
  try {
    body = JSON.parse(request.body);
  } catch {
    return request;
  }
  const condition = (body as { condition?: unknown } | null)?.condition;
  if (typeof condition !== 'string') return request;
  const rewritten = rewritePatchCondition(condition);
  if (rewritten === condition) return request;
  return { ...request, body: JSON.stringify({ ...(body as object), condition: rewritten }) };
}

/** `FROM c WHERE <predicate>` as `SELECT * FROM c WHERE c.id = @id AND (<predicate>)`; anything else as it is. */
export function rewritePatchCondition(condition: string): string {
  if (!fixEnabled('patch')) return condition;
  const match = /^\s*from\s+([A-Za-z_][A-Za-z0-9_]*)\s+where\s+([\s\S]+)$/i.exec(condition);
  if (!match) return condition;
  const [, alias, predicate] = match;
  return `SELECT * FROM ${alias} WHERE ${alias}.id = @id AND (${predicate})`;
}
