/**
 * The emulator's core: runs one Cosmos REST request through the fixes and the stock server, and logs what it
 * changed in the backup log. The front listener (RU model, faults) and the admin operations both sit on top of it.
 */
import type { Dispatch, RawRequest, RawResponse } from './dispatch';
import { partitionKeyFromHeader, partitionKeyOf, type BackupLogFile, type PendingEvent } from './backup-log';
import { fillBatchPartitionKeys, fixPatchCondition, precheckAtomicBatch } from './fixes';
import type { BatchOperation, BatchResult } from './ru-model';
import type { Route } from './routes';
import { serveChangeFeed } from './change-feed';
import { refuseRequest } from './limits';
import { withNormalisedPolicy } from './indexing-policy';
import { writeWithTriggers } from './scripts';
import { markPatches, unsupportedOperationType } from './batch-patch';
import { documentScope } from './scan';
import { IndexTransformations } from './index-transformation';

export interface Outcome {
  response: RawResponse;
  /** For batch/bulk requests: the operations as run and their results (requestCharge to be set by the RU model). */
  batch?: { ops: BatchOperation[]; results: BatchResult[] };
}

/** A container or database came or went (partitions.ts and the RU model forget what belonged to it). */
export type LifecycleEvent =
  | { kind: 'container-created' | 'container-deleted'; database: string; container: string }
  | { kind: 'database-deleted'; database: string };

export class Engine {
  onLifecycle?: (event: LifecycleEvent) => void;
  /** Index rebuilds after a policy change or a restore, reported on container reads (index-transformation.ts). */
  readonly indexing = new IndexTransformations();

  constructor(
    readonly dispatch: Dispatch,
    private readonly backup: BackupLogFile
  ) {}

  async execute(request: RawRequest, route: Route, options: { log: boolean }): Promise<Outcome> {
    const refused = refuseRequest(request, route);
    if (refused) return { response: refused };
    const policyBefore = await this.indexingPolicyBeforeReplace(route);
    let outcome: Outcome;
    const feed = route.resource === 'documents' ? documentScope.getStore()?.changeFeed : undefined;
    if (route.action === 'batch' && route.resource === 'documents') {
      outcome = await this.executeBatch(request, route);
    } else if (feed) {
      outcome = { response: await serveChangeFeed(this.dispatch, request, feed) };
    } else {
      const fixed =
        route.action === 'patch' && route.resource === 'document'
          ? fixPatchCondition(request)
          : withNormalisedPolicy(request, route);
      const triggered =
        (route.resource === 'document' || route.resource === 'documents') &&
        ['create', 'upsert', 'replace', 'delete'].includes(route.action);
      outcome = {
        response: triggered
          ? await writeWithTriggers(this, fixed, route, (r) => this.dispatch(r))
          : await this.dispatch(fixed),
      };
    }
    if (options.log) this.backup.append(this.eventsOf(request, route, outcome));
    this.lifecycle(route, outcome.response);
    await this.indexingAfter(route, request, outcome.response, policyBefore);
    return outcome;
  }

  /** The indexing policy a container replace is about to change (undefined for any other request). */
  private async indexingPolicyBeforeReplace(route: Route): Promise<string | undefined> {
    if (route.resource !== 'container' || route.action !== 'replace' || !route.database || !route.container) return;
    const url = `/dbs/${encodeURIComponent(route.database)}/colls/${encodeURIComponent(route.container)}`;
    const res = await this.dispatch({ method: 'GET', url, headers: {}, body: '' });
    if (res.status !== 200) return;
    return JSON.stringify((JSON.parse(res.body) as { indexingPolicy?: unknown }).indexingPolicy ?? null);
  }

  /** A changed policy starts a rebuild sized by the documents; a container read reports its progress. */
  private async indexingAfter(
    route: Route,
    request: RawRequest,
    response: RawResponse,
    policyBefore: string | undefined
  ): Promise<void> {
    if (route.resource !== 'container' || !route.database || !route.container || response.status !== 200) return;
    if (route.action === 'read') {
      Object.assign(response.headers, this.indexing.headersFor(route.database, route.container, request.headers));
      return;
    }
    if (route.action !== 'replace' || policyBefore === undefined) return;
    const after = JSON.stringify((JSON.parse(response.body) as { indexingPolicy?: unknown }).indexingPolicy ?? null);
    if (after !== policyBefore) {
      this.indexing.start(route.database, route.container, await this.documentCount(route.database, route.container));
    }
  }

  /** The container's documents (the stock server lists them all: once per policy change or restore). */
  async documentCount(database: string, container: string): Promise<number> {
    const url = `/dbs/${encodeURIComponent(database)}/colls/${encodeURIComponent(container)}/docs`;
    const res = await this.dispatch({ method: 'GET', url, headers: {}, body: '' });
    if (res.status !== 200) return 0;
    const body = JSON.parse(res.body) as { _count?: unknown; Documents?: unknown[] };
    return typeof body._count === 'number' ? body._count : (body.Documents?.length ?? 0);
  }

  private lifecycle(route: Route, response: RawResponse): void {
    const db = route.database;
    if (db && response.status === 204 && route.action === 'delete') {
      if (route.resource === 'database') this.indexing.forget(db);
      if (route.resource === 'container' && route.container) this.indexing.forget(db, route.container);
    }
    if (!this.onLifecycle || !db) return;
    if (route.resource === 'database' && route.action === 'delete' && response.status === 204) {
      this.onLifecycle({ kind: 'database-deleted', database: db });
    } else if (route.resource === 'container' && route.action === 'create' && response.status === 201) {
      const id = (JSON.parse(response.body) as { id?: unknown }).id;
      if (typeof id === 'string') this.onLifecycle({ kind: 'container-created', database: db, container: id });
    } else if (
      route.resource === 'container' &&
      route.container &&
      route.action === 'delete' &&
      response.status === 204
    ) {
      this.onLifecycle({ kind: 'container-deleted', database: db, container: route.container });
    }
  }

  private async executeBatch(request: RawRequest, route: Route): Promise<Outcome> {
    let ops: BatchOperation[];
    try {
      ops = JSON.parse(request.body) as BatchOperation[];
    } catch {
      return { response: await this.dispatch(request) };
    }
    if (!Array.isArray(ops)) return { response: await this.dispatch(request) };
    fillBatchPartitionKeys(ops, request.headers['x-ms-documentdb-partitionkey']);
    const unsupported = unsupportedOperationType(ops);
    if (unsupported !== undefined) {
      // Refused as a whole before anything runs (the stock server applied the operations before the bad one).
      return {
        response: {
          status: 400,
          headers: { 'content-type': 'application/json', 'x-ms-request-charge': '1' },
          body: JSON.stringify({
            code: 'BadRequest',
            message: `Operation type '${unsupported}' is not supported in Batch.`,
          }),
        },
      };
    }
    if (route.atomic) {
      const docsUrl = `/dbs/${encodeURIComponent(route.database!)}/colls/${encodeURIComponent(route.container!)}/docs`;
      const failed = await precheckAtomicBatch(this.dispatch, docsUrl, ops);
      if (failed) {
        return {
          response: {
            status: 207,
            headers: { 'content-type': 'application/json', 'x-ms-request-charge': '1' },
            body: JSON.stringify(failed),
          },
          batch: { ops, results: failed },
        };
      }
    }
    const response = await this.dispatch({ ...request, body: JSON.stringify(markPatches(ops)) });
    let results: unknown;
    try {
      results = JSON.parse(response.body);
    } catch {
      results = undefined;
    }
    return Array.isArray(results) ? { response, batch: { ops, results: results as BatchResult[] } } : { response };
  }

  /** What an acknowledged request changed, as backup-log events (documents as they resulted). */
  private eventsOf(request: RawRequest, route: Route, { response, batch }: Outcome): PendingEvent[] {
    const { status } = response;
    const db = route.database;
    const body = (): Record<string, unknown> => JSON.parse(response.body) as Record<string, unknown>;
    switch (route.resource) {
      case 'database':
        if (route.action === 'create' && status === 201) {
          return [{ type: 'database', op: 'Create', db: String(body().id) }];
        }
        if (route.action === 'delete' && status === 204 && db) return [{ type: 'database', op: 'Delete', db }];
        return [];
      case 'container': {
        if (!db) return [];
        if (route.action === 'create' && status === 201) {
          const definition = body();
          return [{ type: 'container', op: 'Create', db, coll: String(definition.id), definition }];
        }
        if (!route.container) return [];
        if (route.action === 'replace' && status === 200) {
          return [{ type: 'container', op: 'Replace', db, coll: route.container, definition: body() }];
        }
        if (route.action === 'delete' && status === 204) {
          return [{ type: 'container', op: 'Delete', db, coll: route.container }];
        }
        return [];
      }
      case 'documents':
      case 'document': {
        const coll = route.container;
        if (!db || !coll) return [];
        const upsert = (doc: Record<string, unknown>): PendingEvent => ({
          type: 'document',
          op: 'Upsert',
          db,
          coll,
          id: String(doc.id),
          pk: partitionKeyOf(this.backup.definition(db, coll), doc),
          doc,
        });
        const remove = (id: string, pkHeader: string | undefined): PendingEvent => ({
          type: 'document',
          op: 'Delete',
          db,
          coll,
          id,
          pk: partitionKeyFromHeader(pkHeader),
        });
        if (route.action === 'batch') {
          if (!batch) return [];
          const events: PendingEvent[] = [];
          batch.results.forEach((result, i) => {
            const op = batch.ops[i];
            if (!op || result.statusCode >= 300 || op.operationType === 'Read') return;
            if (op.operationType === 'Delete' && op.id !== undefined) events.push(remove(op.id, op.partitionKey));
            else if (result.resourceBody) events.push(upsert(result.resourceBody as Record<string, unknown>));
          });
          return events;
        }
        if (route.action === 'delete' && status === 204 && route.documentId !== undefined) {
          return [remove(route.documentId, request.headers['x-ms-documentdb-partitionkey'])];
        }
        const writes = ['create', 'upsert', 'replace', 'patch'];
        if (writes.includes(route.action) && (status === 200 || status === 201)) return [upsert(body())];
        return [];
      }
      default:
        return [];
    }
  }
}
