/**
 * `Prefer: return=minimal` on a bulk or batch request. @azure/cosmos 4.9 sends it when a request's
 * `contentResponseOnWriteEnabled` is false (request/request.js `getHeaders`: item requests of operation type Batch
 * only; any other request is refused client-side). Azure then answers each write operation with its status, charge
 * and ETag but without the document; a read still returns its document. The stock
 * server always returns the document.
 */
import type { BatchOperation, BatchResult } from './ru-model';

export function wantsMinimalResponse(headers: Record<string, string>): boolean {
  return (headers.prefer ?? '').split(/[,;]/).some((part) => part.trim().toLowerCase() === 'return=minimal');
}

/** The results without the documents of successful writes. */
export function minimalResults(ops: BatchOperation[], results: BatchResult[]): BatchResult[] {
  return results.map((result, i) => {
    const read = ops[i]?.operationType === 'Read';
    if (read || result.statusCode < 200 || result.statusCode >= 300 || result.resourceBody === undefined) return result;
    const { resourceBody: _dropped, ...rest } = result;
    return rest;
  });
}
