/** What a Cosmos REST request is about: the resource, the action and the operation kind the RU model charges. */
import type { OperationKind } from './types';

export type Resource = 'account' | 'database' | 'container' | 'documents' | 'document' | 'other';
export type Action = 'read' | 'create' | 'upsert' | 'replace' | 'patch' | 'delete' | 'query' | 'batch';

export interface Route {
  resource: Resource;
  action: Action;
  kind: OperationKind;
  database?: string;
  container?: string;
  documentId?: string;
  /** Whether an x-ms-cosmos-batch-atomic request (transactional batch) rather than bulk. */
  atomic: boolean;
}

const isTrue = (value: string | undefined) => (value ?? '').toLowerCase() === 'true';

export function pathSegments(url: string): string[] {
  const pathname = new URL(url, 'https://emulator').pathname;
  return pathname
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => decodeURIComponent(s));
}

export function classify(method: string, url: string, headers: Record<string, string>): Route {
  const segments = pathSegments(url);
  const [dbs, database, colls, container, docs, documentId, ...rest] = segments;
  let resource: Resource = 'other';
  if (segments.length === 0) resource = 'account';
  else if (dbs === 'dbs' && segments.length <= 2) resource = 'database';
  else if (colls === 'colls' && segments.length <= 4) resource = 'container';
  else if (docs === 'docs' && segments.length === 5) resource = 'documents';
  else if (docs === 'docs' && segments.length === 6 && rest.length === 0) resource = 'document';

  let action: Action;
  switch (method.toUpperCase()) {
    case 'POST':
      if (isTrue(headers['x-ms-documentdb-isquery']) || headers['content-type'] === 'application/query+json') {
        action = 'query';
      } else if (isTrue(headers['x-ms-documentdb-is-upsert'])) action = 'upsert';
      else if (isTrue(headers['x-ms-cosmos-is-batch-request'])) action = 'batch';
      else action = 'create';
      break;
    case 'PUT':
      action = 'replace';
      break;
    case 'PATCH':
      action = 'patch';
      break;
    case 'DELETE':
      action = 'delete';
      break;
    default:
      action = 'read';
  }

  let kind: OperationKind = 'metadata';
  if (resource === 'document') kind = action === 'read' ? 'read' : 'write';
  if (resource === 'documents') {
    if (action === 'query' || action === 'read') kind = 'query';
    else if (action === 'batch') kind = 'batch';
    else kind = 'write';
  }
  return {
    resource,
    action,
    kind,
    ...(database !== undefined ? { database } : {}),
    ...(container !== undefined && colls === 'colls' ? { container } : {}),
    ...(documentId !== undefined && resource === 'document' ? { documentId } : {}),
    atomic: isTrue(headers['x-ms-cosmos-batch-atomic']),
  };
}
