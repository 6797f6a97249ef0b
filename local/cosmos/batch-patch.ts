/**
 * Patch operations inside transactional batch and bulk requests, which @azure/cosmos sends as
 * `{ operationType: "Patch", id, partitionKey, ifMatch?, resourceBody: { operations, condition? } }` (or the
 * operations array alone; `utils/batch.js`). The stock server (@vercel/cosmosdb-server 1.0.1,
 * `handler/batch-documents.js`) answers the whole request `400 Operation type 'Patch' is not supported in Batch`
 * when it reaches one, after having applied the operations before it: a tool is told nothing ran while some did.
 *
 * Here the engine validates every operation type before anything runs (an unsupported one refuses the whole request,
 * nothing applied, as Azure does) and sends each Patch to the server as a marked Replace; the server's
 * `replaceOperation` (wrapped below) runs a marked one through its own single-document `patchOperation`, so a patch
 * in a batch behaves exactly as a PATCH request: 404, 412 on ifMatch or a false condition, 400 on an invalid patch,
 * 200 with the patched document.
 */
import { fixEnabled } from './fix-flags';
import { rewritePatchCondition } from './fixes';
import type { BatchOperation } from './ru-model';
import { serverRequire } from './server-require';

/** Operation types Azure accepts in a batch or bulk request (`BulkOperationType` in `utils/batch.js`). */
export const BATCH_OPERATION_TYPES = ['Create', 'Upsert', 'Read', 'Delete', 'Replace', 'Patch'];

const MARKER = '__localPatch';

interface MarkedReplace extends BatchOperation {
  [MARKER]?: { operations: unknown; condition?: unknown };
}

/** The first operation type the request may not contain, or undefined. */
export function unsupportedOperationType(ops: BatchOperation[]): string | undefined {
  if (!fixEnabled('batchpatch')) return undefined;
  const bad = ops.find((op) => !BATCH_OPERATION_TYPES.includes(String(op?.operationType)));
  return bad === undefined ? undefined : String(bad?.operationType);
}

/** The patch's operations and condition, from either body form the SDK sends. */
export function patchBody(op: BatchOperation): { operations: unknown; condition?: string } {
  const body = op.resourceBody;
  if (Array.isArray(body)) return { operations: body };
  const { operations, condition } = (body ?? {}) as { operations?: unknown; condition?: unknown };
  return typeof condition === 'string' ? { operations, condition } : { operations };
}

/** The operations as the server is sent them: each Patch as a marked Replace. */
export function markPatches(ops: BatchOperation[]): BatchOperation[] {
  if (!fixEnabled('batchpatch')) return ops;
  return ops.map((op) => {
    if (op?.operationType !== 'Patch') return op;
    const { operations, condition } = patchBody(op);
    const marked: MarkedReplace = {
      ...op,
      operationType: 'Replace',
      [MARKER]: { operations, ...(condition !== undefined ? { condition: rewritePatchCondition(condition) } : {}) },
    };
    delete marked.resourceBody;
    return marked;
  });
}

interface OperationInput {
  id?: string;
  partitionKey?: string;
  ifMatch?: string;
  [MARKER]?: { operations: unknown; condition?: string };
}

let patched = false;

/** Routes marked Replace operations of a batch to the server's own single-document patch. */
export function patchBatchPatchOperations(): void {
  if (patched || !fixEnabled('batchpatch')) return;
  patched = true;
  const documentOperations = serverRequire<Record<string, unknown>>(
    '@vercel/cosmosdb-server/lib/handler/_document-operations'
  );
  const { patchOperation } = serverRequire<{ patchOperation: (collection: unknown, input: unknown) => unknown }>(
    '@vercel/cosmosdb-server/lib/handler/_patch-operations'
  );
  const replaceOperation = documentOperations.replaceOperation as (collection: unknown, input: unknown) => unknown;
  // batch-documents.js reads the operation through __importStar's live getters, so replacing the export is seen.
  documentOperations.replaceOperation = (collection: unknown, input: OperationInput) => {
    const patch = input?.[MARKER];
    if (!patch) return replaceOperation(collection, input);
    return patchOperation(collection, {
      id: input.id,
      partitionKey: input.partitionKey,
      ifMatch: input.ifMatch,
      operations: patch.operations,
      condition: patch.condition,
    });
  };
}
