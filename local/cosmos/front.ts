/**
 * The emulator's HTTPS request listener: control endpoints, fault injection, the RU model, then the engine.
 * Everything a client sees passes here; admin operations do not (they call the engine directly).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { RawRequest, RawResponse } from './dispatch';
import type { Engine } from './engine';
import type { FaultInjector } from './faults';
import {
  chargeBatch,
  chargeFor,
  estimateCharge,
  estimateOperation,
  type BatchOperation,
  type Priority,
  type RuModel,
} from './ru-model';
import { DEFAULT_RETRY_AFTER_MS } from './faults';
import { withinBatchLimits } from './limits';
import { classify, type Route } from './routes';
import { CONTROL_PREFIX, handleControl } from './control-endpoints';
import type { EmulatorControl, EmulatorStats, PriorityStats } from './types';
import type { PartitionTable } from './partitions';
import { routePartitions } from './partition-routing';
import { documentScope, type DocumentScope } from './scan';
import { queryPlan, queryShape } from './query-plan';
import { encodeUtilization, indexUse, SCAN_RU_PER_DOCUMENT, type IndexUse } from './index-metrics';
import { minimalResults, wantsMinimalResponse } from './return-minimal';
import { handleOffers, isOfferRequest, quotaHeaders } from './offers';
import { handleScripts, isScriptRequest } from './scripts';
import { refuseScriptsToEntra } from './entra-scripts';
import { fixEnabled } from './fix-flags';
import {
  runSessionRequest,
  sessionHeaders,
  tokenLsn,
  type SessionReplicas,
  type SessionRequest,
} from './session-consistency';

export interface FrontDeps {
  engine: Engine;
  ru: RuModel;
  faults: FaultInjector;
  partitions: PartitionTable;
  /** The replica lag of Session consistency (session-consistency.ts). */
  replicas: SessionReplicas;
  control: EmulatorControl;
  /** The counters (the seed is read from the injector). */
  stats: Omit<EmulatorStats, 'faultSeed'>;
  key: string;
}

const THROTTLE_MESSAGE =
  'Request rate is large. More Request Units may be needed, so no changes were made. Please retry this request later.';

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('the client closed the connection before sending the whole request'));
    });
  });
}

function send(res: ServerResponse, response: RawResponse): void {
  if (res.destroyed) return;
  for (const [name, value] of Object.entries(response.headers)) {
    if (name !== 'connection' && name !== 'content-length') res.setHeader(name, value);
  }
  res.setHeader('x-ms-activity-id', response.headers['x-ms-activity-id'] ?? randomUUID());
  res.setHeader('content-length', Buffer.byteLength(response.body));
  res.statusCode = response.status;
  res.end(response.body);
}

function tooManyRequests(retryAfterMs: number): RawResponse {
  return {
    status: 429,
    headers: {
      'content-type': 'application/json',
      'x-ms-retry-after-ms': String(retryAfterMs),
      'x-ms-substatus': '3200',
      'x-ms-request-charge': '0',
    },
    body: JSON.stringify({ code: 'TooManyRequests', message: THROTTLE_MESSAGE }),
  };
}

const unavailable = (): RawResponse => ({
  status: 503,
  headers: { 'content-type': 'application/json', 'x-ms-request-charge': '0' },
  body: JSON.stringify({ code: 'ServiceUnavailable', message: 'Service is currently unavailable (injected fault).' }),
});

/**
 * The SDK fetches a query plan alongside every query (queryIterator.js fetchQueryPlan) and uses it only when the
 * gateway refuses the query itself (partition-routing.ts). Answered from the query's shape, without running it.
 */
function queryPlanResponse(request: RawRequest): RawResponse {
  let sql: string | undefined;
  try {
    const body = JSON.parse(request.body) as { query?: unknown };
    if (typeof body.query === 'string') sql = body.query;
  } catch {
    sql = undefined;
  }
  const shape = sql === undefined ? undefined : queryShape(sql);
  if (sql === undefined || !shape) {
    return {
      status: 400,
      headers: { 'content-type': 'application/json', 'x-ms-request-charge': '0' },
      body: JSON.stringify({
        code: 'BadRequest',
        message: 'The query plan request has no query, or it does not parse.',
      }),
    };
  }
  return {
    status: 200,
    headers: { 'content-type': 'application/json', 'x-ms-request-charge': '0' },
    body: JSON.stringify(queryPlan(sql, shape)),
  };
}

const priorityOf = (headers: Record<string, string>): Priority =>
  (headers['x-ms-cosmos-priority-level'] ?? '').toLowerCase() === 'low' ? 'Low' : 'High';

/**
 * A document query's index use (index-metrics.ts): answers `x-ms-cosmos-index-utilization` when the client asked
 * (`x-ms-cosmos-populateindexmetrics-v2`: URI-encoded JSON, as `@azure/cosmos` 4.9 decodes it; the V1 header: base64),
 * and returns the scan charge: a filter on a path the policy does not index examines every document in scope.
 */
function applyIndexUse(
  request: RawRequest,
  route: Route,
  scope: DocumentScope | undefined,
  response: RawResponse
): number {
  if (route.action !== 'query' || route.resource !== 'documents' || !scope?.examined || response.status >= 400)
    return 0;
  let sql: string | undefined;
  try {
    const body = JSON.parse(request.body) as { query?: unknown };
    if (typeof body.query === 'string') sql = body.query;
  } catch {
    sql = undefined;
  }
  const use: IndexUse | undefined = sql === undefined ? undefined : indexUse(sql, scope.examined.definition);
  if (!use) return 0;
  const v2 = (request.headers['x-ms-cosmos-populateindexmetrics-v2'] ?? '').toLowerCase() === 'true';
  const v1 = (request.headers['x-ms-cosmos-populateindexmetrics'] ?? '').toLowerCase() === 'true';
  if (v2 || v1) response.headers['x-ms-cosmos-index-utilization'] = encodeUtilization(use, v2 ? 2 : 1);
  return use.potentialSingle.length > 0 ? scope.examined.documents * SCAN_RU_PER_DOCUMENT : 0;
}

/**
 * `containers.create({ id, throughput })` sends the provisioned RU/s as `x-ms-offer-throughput`; the stock server
 * ignores it. Give it to the RU model, as Cosmos DB would provision it.
 */
function provisionFromCreate(control: EmulatorControl, route: Route, request: RawRequest, response: RawResponse): void {
  const offer = Number(request.headers['x-ms-offer-throughput']);
  if (route.resource !== 'container' || route.action !== 'create' || response.status !== 201 || !(offer > 0)) return;
  const id = (JSON.parse(response.body) as { id?: string }).id;
  if (route.database && id) control.setThroughput(route.database, id, offer);
}

function countAnswer(counted: PriorityStats, route: Route, response: RawResponse): void {
  counted.requests++;
  counted.requestCharge += Number(response.headers['x-ms-request-charge'] ?? 0);
  if ((route.kind === 'write' || route.kind === 'batch') && response.status < 300) counted.writes++;
  if (route.kind === 'query' || route.kind === 'read') {
    counted.documentsReturned += Number(response.headers['x-ms-item-count'] ?? 0) || 0;
  }
}

export function createFrontListener(deps: FrontDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const request: RawRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers,
      body: await readBody(req),
    };
    if (request.url.replace(/^\/+/, '/').startsWith(CONTROL_PREFIX)) {
      send(res, await handleControl(request, deps.key, deps));
      return;
    }
    const forbidden = refuseScriptsToEntra(request);
    if (forbidden) {
      send(res, forbidden);
      return;
    }
    if (isScriptRequest(request.url)) {
      send(res, await handleScripts(request, deps.engine));
      return;
    }
    if (isOfferRequest(request.url)) {
      const provisioned = (database: string, container: string) => deps.ru.provisioned(database, container);
      send(res, await handleOffers(request, { engine: deps.engine, control: deps.control, provisioned }));
      return;
    }
    if ((headers['x-ms-cosmos-is-query-plan-request'] ?? '').toLowerCase() === 'true') {
      send(res, queryPlanResponse(request));
      return;
    }
    const route = classify(request.method, request.url, headers);

    const fault = deps.faults.decide(route.kind);
    if (fault.latencyMs > 0) await sleep(fault.latencyMs);
    switch (fault.outcome?.type) {
      case 'throttle':
        deps.stats.injected.throttle++;
        send(res, tooManyRequests(fault.outcome.retryAfterMs));
        return;
      case 'unavailable':
        deps.stats.injected.unavailable++;
        send(res, unavailable());
        return;
      case 'timeout': {
        // Never answer; drop the connection later, as a request lost in the network would be.
        deps.stats.injected.timeout++;
        const timer = setTimeout(() => req.socket.destroy(), fault.outcome.hangMs);
        req.socket.once('close', () => clearTimeout(timer));
        return;
      }
      case 'drop':
        // A connection reset before the request reached the service: nothing ran.
        deps.stats.injected.drop++;
        req.socket.destroy();
        return;
      default:
        break;
    }

    // Physical partitions: the pkranges feed, ranges that are gone, queries that need the plan, which ranges a
    // request touches and what it may see.
    const routing = await routePartitions(deps.partitions, request, route);
    if (routing.response) {
      if (routing.response.status === 410) deps.stats.partitionKeyRangeGone++;
      deps.stats.requestCharge += Number(routing.response.headers['x-ms-request-charge'] ?? 0);
      send(res, routing.response);
      return;
    }
    if (routing.body !== undefined) request.body = routing.body;

    // Document requests by priority (the migration's Low and the application's High, told apart in stats).
    const counted =
      route.kind !== 'metadata' && route.container ? deps.stats.byPriority[priorityOf(headers)] : undefined;
    const metered = deps.ru.isEnabled && route.kind !== 'metadata' && route.database && route.container;
    const bucket = `${route.database}/${route.container}`;
    const priority = priorityOf(headers);
    let ops: BatchOperation[] | undefined;
    if (route.kind === 'batch') {
      try {
        ops = JSON.parse(request.body) as BatchOperation[];
      } catch {
        ops = undefined;
      }
    }
    const bulkOps = route.kind === 'batch' && !route.atomic && Array.isArray(ops) ? ops : undefined;
    let reserved = 0;
    // Operations of a bulk that do not run, answered with a status of their own in a 207 while the others run.
    let notRun: (NotRun | undefined)[] | undefined;
    if (metered) {
      const throttle = (retryAfterMs: number) => {
        deps.stats.throttled++;
        if (counted) {
          counted.requests++;
          counted.throttled++;
        }
        send(res, tooManyRequests(retryAfterMs));
      };
      if (bulkOps && deps.ru.partialBulkThrottling && withinBatchLimits(request.body, bulkOps)) {
        // Azure runs a bulk's operations until the partition's RU run out; the rest are throttled one by one.
        const estimates = bulkOps.map(estimateOperation);
        const partial = deps.ru.admitPrefix(bucket, routing.ranges, routing.partitionCount, estimates, priority);
        if (partial.count === 0 && bulkOps.length > 0) {
          throttle(partial.retryAfterMs);
          return;
        }
        reserved = partial.reserved;
        if (partial.count < bulkOps.length) {
          const retryAfterMs = partial.retryAfterMs;
          notRun = bulkOps.map((_, i) =>
            i < partial.count ? undefined : { status: 429, retryAfterMs, throttled: true }
          );
          deps.stats.throttledOperations += bulkOps.length - partial.count;
        }
      } else {
        const estimate = estimateCharge(route, request.body, Array.isArray(ops) ? ops : undefined);
        const admission = deps.ru.admit(bucket, routing.ranges, routing.partitionCount, estimate, priority);
        if (!admission.admitted) {
          throttle(admission.retryAfterMs);
          return;
        }
        reserved = admission.reserved;
      }
    }

    // Operations of a bulk answered with a fault status: they do not run, the others do. Drawn for every operation,
    // so the draws do not depend on the RU model.
    if (bulkOps) {
      const drawn = bulkOps.map(() => deps.faults.bulkOperationFault());
      notRun = bulkOps.map((_, i) => {
        const status = drawn[i];
        if (notRun?.[i] || status === undefined) return notRun?.[i];
        deps.stats.injected.bulkOperation++;
        return { status, retryAfterMs: DEFAULT_RETRY_AFTER_MS, throttled: false };
      });
    }
    if (notRun?.some((n) => n !== undefined)) {
      if (notRun.every((n) => n !== undefined)) {
        if (metered) deps.ru.settle(bucket, routing.ranges, routing.partitionCount, reserved, 0);
        send(res, {
          status: 207,
          headers: { 'content-type': 'application/json', 'x-ms-request-charge': '0' },
          body: JSON.stringify(mergeNotRun([], notRun)),
        });
        return;
      }
      request.body = JSON.stringify(bulkOps!.filter((_, i) => notRun![i] === undefined));
    } else {
      notRun = undefined;
    }
    if (routing.scope && route.kind === 'query' && !routing.scope.changeFeed) {
      const share = deps.faults.shortPage();
      if (share !== undefined) {
        routing.scope.shortPage = share;
        deps.stats.injected.shortPage++;
      }
    }
    // Reads and queries may be served by a lagging replica unless the session token asks for more; writes go to the
    // primary. Document answers carry the session token.
    const session: SessionRequest = {
      replicas: deps.replicas,
      ...(route.kind === 'read' || route.kind === 'query'
        ? { read: { tokenLsn: tokenLsn(headers['x-ms-session-token']), now: Date.now() } }
        : {}),
    };
    const run = () => deps.engine.execute(request, route, { log: true });
    const { response, batch } = await runSessionRequest(session, () =>
      routing.scope ? documentScope.run(routing.scope, run) : run()
    );
    if (route.kind !== 'metadata') Object.assign(response.headers, sessionHeaders(session, routing.ranges));
    provisionFromCreate(deps.control, route, request, response);
    if (route.resource === 'container' && route.container && route.action === 'read' && response.status === 200) {
      if (fixEnabled('offers')) Object.assign(response.headers, quotaHeaders());
    }
    const scanCharge = applyIndexUse(request, route, routing.scope, response);
    if (deps.ru.isEnabled) {
      const charge = batch
        ? chargeBatch(batch.ops, batch.results)
        : Math.round(
            (chargeFor(route, request.body, response.status, response.body, 'x-ms-continuation' in headers) +
              scanCharge) *
              100
          ) / 100;
      response.headers['x-ms-request-charge'] = String(charge);
      if (metered) deps.ru.settle(bucket, routing.ranges, routing.partitionCount, reserved, charge);
      deps.stats.requestCharge += charge;
    } else {
      deps.stats.requestCharge += Number(response.headers['x-ms-request-charge'] ?? 1);
    }
    // The operations' results as charged (RU model) and, when asked, without the written documents: serialized once.
    if (batch && (deps.ru.isEnabled || wantsMinimalResponse(headers))) {
      const results = wantsMinimalResponse(headers) ? minimalResults(batch.ops, batch.results) : batch.results;
      response.body = JSON.stringify(results);
    }
    if (notRun && response.status < 300) {
      response.status = 207;
      response.body = JSON.stringify(mergeNotRun(JSON.parse(response.body) as unknown[], notRun));
    }
    if (counted) countAnswer(counted, route, response);
    if (fault.dropResponse) {
      // The operation ran (a write is applied) but its answer is lost with the connection: the client must find out.
      deps.stats.injected.dropResponse++;
      req.socket.destroy();
      return;
    }
    send(res, response);
  };
  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      send(res, {
        status: 500,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          code: 'InternalServerError',
          message: `Local Cosmos emulator: ${(err as Error).message}`,
        }),
      });
    });
  };
}

/** An operation of a bulk that did not run: throttled (the partition's RU ran out) or an injected fault. */
interface NotRun {
  status: number;
  retryAfterMs: number;
  throttled: boolean;
}

/**
 * The results of the operations that ran, with those that did not put back at their places. A throttled operation
 * is answered as Azure answers one: 429, substatus 3200, no charge, `retryAfterMilliseconds` (the field
 * @azure/cosmos 4.9 reads per operation, bulk/BulkResponse.js `populateFromResponse`).
 */
function mergeNotRun(ran: unknown[], notRun: (NotRun | undefined)[]): unknown[] {
  let next = 0;
  return notRun.map((n) => {
    if (n === undefined) return ran[next++];
    if (n.throttled) {
      return { statusCode: 429, subStatusCode: 3200, requestCharge: 0, retryAfterMilliseconds: n.retryAfterMs };
    }
    return {
      statusCode: n.status,
      requestCharge: 0,
      ...(n.status === 429 ? { retryAfterMilliseconds: n.retryAfterMs } : {}),
    };
  });
}
