/**
 * Stored procedures and triggers, which the stock server does not route
 * (https://learn.microsoft.com/azure/cosmos-db/nosql/stored-procedures-triggers-udfs): CRUD and query of
 * `/dbs/{db}/colls/{c}/sprocs` and `/triggers`; `POST /sprocs/{id}` executes one within the partition key of
 * `x-ms-documentdb-partitionkey` (its queries see that key's documents only), with the parameters of the body; pre- and
 * post-triggers run on document writes named in `x-ms-documentdb-pre-trigger-include` / `-post-trigger-include`.
 *
 * Scripts run in a `node:vm` context with the server-side API they use most: `getContext()` with `getRequest()`
 * (getBody/setBody/getValue/setValue), `getResponse()` (getBody/setBody/appendValue/appendBody), `getCollection()` /
 * `__` (getSelfLink, queryDocuments, readDocument, createDocument, upsertDocument, replaceDocument, deleteDocument,
 * callbacks called once the operation ran), and `console.log` (returned in `x-ms-documentdb-script-log-results` when
 * `x-ms-documentdb-script-enable-logging` is set). Writes go through the engine, so they are in the backup log.
 *
 * Not modelled: a script's writes are not one transaction (a script that throws after writing keeps its writes; a
 * post-trigger that throws does not undo the write), no continuation or bounded execution beyond a 5 s CPU limit, and
 * scripts live in memory only (not in the backup log, like UDFs).
 */
import vm from 'node:vm';
import type { RawRequest, RawResponse } from './dispatch';
import type { Engine } from './engine';
import { partitionKeyOf } from './backup-log';
import { effectivePartitionKey, versionOf } from './epk';
import { fixEnabled } from './fix-flags';
import { classify, pathSegments } from './routes';
import { documentScope } from './scan';
import { serverRequire } from './server-require';

type Json = Record<string, unknown>;
type Kind = 'sprocs' | 'triggers';

const json = (status: number, body: unknown, extra: Record<string, string> = {}): RawResponse => ({
  status,
  headers: { 'content-type': 'application/json', 'x-ms-request-charge': '1', ...extra },
  body: body === undefined ? '' : JSON.stringify(body),
});

const FEED_NAMES: Record<Kind, string> = { sprocs: 'StoredProcedures', triggers: 'Triggers' };

/** Scripts by container `_rid` (a container deleted and created again under the same name starts empty). */
const stores = new Map<string, Record<Kind, Map<string, Json>>>();

export function isScriptRequest(url: string): boolean {
  const s = pathSegments(url);
  return fixEnabled('scripts') && s[0] === 'dbs' && s[2] === 'colls' && (s[4] === 'sprocs' || s[4] === 'triggers');
}

async function containerOf(engine: Engine, db: string, coll: string): Promise<Json | undefined> {
  const url = `/dbs/${encodeURIComponent(db)}/colls/${encodeURIComponent(coll)}`;
  const res = await engine.dispatch({ method: 'GET', url, headers: {}, body: '' });
  return res.status === 200 ? (JSON.parse(res.body) as Json) : undefined;
}

function storeOf(container: Json): Record<Kind, Map<string, Json>> {
  const rid = String(container._rid);
  let store = stores.get(rid);
  if (!store) stores.set(rid, (store = { sprocs: new Map(), triggers: new Map() }));
  return store;
}

function resource(container: Json, kind: Kind, body: Json): Json {
  const id = String(body.id);
  const rid = Buffer.from(`${String(container._rid)}/${kind}/${id}`)
    .toString('base64url')
    .slice(-16);
  return {
    ...body,
    body: typeof body.body === 'string' ? body.body : String(body.body),
    id,
    _rid: rid,
    _self: `${String(container._self)}${kind}/${rid}/`,
    _etag: `"${Date.now().toString(16)}"`,
    _ts: Math.floor(Date.now() / 1000),
  };
}

export async function handleScripts(request: RawRequest, engine: Engine): Promise<RawResponse> {
  const [, db, , coll, kindSegment, id] = pathSegments(request.url);
  const kind = kindSegment as Kind;
  const container = await containerOf(engine, db!, coll!);
  if (!container) return json(404, { code: 'NotFound', message: 'Resource Not Found' });
  const scripts = storeOf(container)[kind];
  const method = request.method.toUpperCase();
  const parse = (): Json | undefined => {
    try {
      const body = JSON.parse(request.body) as unknown;
      return body && typeof body === 'object' ? (body as Json) : undefined;
    } catch {
      return undefined;
    }
  };
  if (id === undefined) {
    const isQuery = (request.headers['x-ms-documentdb-isquery'] ?? '').toLowerCase() === 'true';
    if (method === 'GET' || (method === 'POST' && isQuery)) {
      let rows: unknown[] = [...scripts.values()];
      if (method === 'POST') {
        const query = parse() as { query?: string; parameters?: unknown[] } | undefined;
        const compile = serverRequire<{
          default: (sql: string) => { exec(docs: unknown[], o: { parameters?: unknown[] }): { result: unknown[] } };
        }>('@zeit/cosmosdb-query').default;
        try {
          rows = compile(String(query?.query)).exec(rows, { parameters: query?.parameters ?? [] }).result;
        } catch (err) {
          return json(400, { code: 'BadRequest', message: (err as Error).message });
        }
      }
      return json(
        200,
        { _rid: container._rid, [FEED_NAMES[kind]]: rows, _count: rows.length },
        { 'x-ms-item-count': String(rows.length) }
      );
    }
    if (method !== 'POST') return json(405, { code: 'MethodNotAllowed', message: method });
    const body = parse();
    if (!body || typeof body.id !== 'string' || body.body === undefined) {
      return json(400, { code: 'BadRequest', message: 'A script needs an id and a body.' });
    }
    if (scripts.has(body.id))
      return json(409, { code: 'Conflict', message: 'Resource with specified id already exists.' });
    const created = resource(container, kind, body);
    scripts.set(body.id, created);
    return json(201, created, { etag: String(created._etag) });
  }
  const existing = scripts.get(id);
  if (method === 'GET') return existing ? json(200, existing) : json(404, { code: 'NotFound', message: 'Not found' });
  if (method === 'DELETE') {
    if (!existing) return json(404, { code: 'NotFound', message: 'Not found' });
    scripts.delete(id);
    return json(204, undefined);
  }
  if (method === 'PUT') {
    const body = parse();
    if (!existing) return json(404, { code: 'NotFound', message: 'Not found' });
    if (!body || body.id !== id) return json(400, { code: 'BadRequest', message: 'The id cannot change.' });
    const replaced = resource(container, kind, body);
    scripts.set(id, replaced);
    return json(200, replaced, { etag: String(replaced._etag) });
  }
  if (method === 'POST' && kind === 'sprocs') {
    if (!existing) return json(404, { code: 'NotFound', message: 'Not found' });
    let params: unknown;
    try {
      params = request.body === '' ? [] : (JSON.parse(request.body) as unknown);
    } catch {
      return json(400, { code: 'BadRequest', message: 'The parameters are not JSON.' });
    }
    const args = Array.isArray(params) ? params : params === null || params === undefined ? [] : [params];
    const run = await runScript(engine, db!, coll!, container, String(existing.body), args, request.headers, {});
    const logging = (request.headers['x-ms-documentdb-script-enable-logging'] ?? '').toLowerCase() === 'true';
    const logHeader: Record<string, string> =
      logging && run.logs.length > 0
        ? { 'x-ms-documentdb-script-log-results': encodeURIComponent(run.logs.join('\n')) }
        : {};
    if (run.error !== undefined) {
      return json(
        400,
        { code: 'BadRequest', message: `Encountered exception while executing function. Exception = ${run.error}` },
        logHeader
      );
    }
    return json(200, run.response.body, logHeader);
  }
  return json(405, { code: 'MethodNotAllowed', message: method });
}

/** The server-side `appendValue`/`appendBody`: the body as text, the value's text after it. */
function appended(body: unknown, value: unknown): string {
  const text = (v: unknown) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
  return `${text(body)}${text(value)}`;
}

interface RunResult {
  response: { body: unknown };
  request: { body: unknown };
  logs: string[];
  error?: string;
}

/** Runs a script body; its collection operations run through the engine, scoped to the request's partition key. */
async function runScript(
  engine: Engine,
  db: string,
  coll: string,
  container: Json,
  source: string,
  args: unknown[],
  headers: Record<string, string>,
  io: { requestBody?: unknown; responseBody?: unknown }
): Promise<RunResult> {
  const docsUrl = `/dbs/${encodeURIComponent(db)}/colls/${encodeURIComponent(coll)}/docs`;
  const pkHeader = headers['x-ms-documentdb-partitionkey'];
  let pkValues: unknown[] | undefined;
  try {
    pkValues = pkHeader === undefined ? undefined : (JSON.parse(pkHeader) as unknown[]);
  } catch {
    pkValues = undefined;
  }
  const none = !pkValues || (pkValues.length === 1 && JSON.stringify(pkValues[0]) === '{}');
  const scope = {
    minInclusive: '',
    maxExclusive: 'FF',
    ...(none ? {} : { partitionKeyEpk: effectivePartitionKey(pkValues!, versionOf(container)) }),
  };
  const result: RunResult = { response: { body: io.responseBody }, request: { body: io.requestBody }, logs: [] };
  let pending: Promise<void> = Promise.resolve();
  const enqueue = (work: () => Promise<void>) => {
    pending = pending.then(work).catch((err: unknown) => {
      result.error ??= String((err as Error)?.message ?? err);
    });
    return true;
  };
  const call = async (method: string, url: string, body: unknown, pk: unknown) => {
    const reqHeaders: Record<string, string> = { 'x-ms-documentdb-partitionkey': JSON.stringify([pk ?? {}]) };
    if (method === 'POST' && url === docsUrl && body && (body as Json).__upsert) {
      reqHeaders['x-ms-documentdb-is-upsert'] = 'true';
      delete (body as Json).__upsert;
    }
    const req = { method, url, headers: reqHeaders, body: body === undefined ? '' : JSON.stringify(body) };
    const { response } = await documentScope.run(scope, () =>
      engine.execute(req, classify(method, url, reqHeaders), { log: true })
    );
    return response;
  };
  const docUrl = (link: string) =>
    `${docsUrl}/${encodeURIComponent(String(link).replace(/\/$/, '').split('/').pop()!)}`;
  const callback = (cb: unknown, err: unknown, value?: unknown) => {
    if (typeof cb === 'function') (cb as (e: unknown, v?: unknown, o?: unknown) => void)(err, value, {});
    else if (err) throw new Error(JSON.stringify(err));
  };
  const withCallback = (options: unknown, cb: unknown) => (typeof options === 'function' ? options : cb);
  const defaultPk = none ? undefined : pkValues![0];
  const write =
    (method: string, url: (link: string) => string, upsert = false) =>
    (link: string, doc: Json, options?: unknown, cb?: unknown) =>
      enqueue(async () => {
        const pk = partitionKeyOf(container, doc) ?? defaultPk;
        const res = await call(method, url(link), upsert ? { ...doc, __upsert: true } : doc, pk);
        callback(
          withCallback(options, cb),
          res.status >= 400 ? { number: res.status, body: res.body } : null,
          res.status < 400 ? JSON.parse(res.body) : undefined
        );
      });
  const collection = {
    getSelfLink: () => container._self,
    queryDocuments: (link: string, query: unknown, options?: unknown, cb?: unknown) =>
      enqueue(async () => {
        const spec = typeof query === 'string' ? { query, parameters: [] } : query;
        const reqHeaders = {
          'x-ms-documentdb-isquery': 'true',
          'content-type': 'application/query+json',
          'x-ms-documentdb-query-enablecrosspartition': 'true',
        };
        const req = { method: 'POST', url: docsUrl, headers: reqHeaders, body: JSON.stringify(spec) };
        const { response } = await documentScope.run(scope, () =>
          engine.execute(req, classify('POST', docsUrl, reqHeaders), { log: false })
        );
        const docs =
          response.status === 200 ? (JSON.parse(response.body) as { Documents: unknown[] }).Documents : undefined;
        callback(
          withCallback(options, cb),
          response.status === 200 ? null : { number: response.status, body: response.body },
          docs
        );
      }),
    readDocument: (link: string, options?: unknown, cb?: unknown) =>
      enqueue(async () => {
        const res = await call('GET', docUrl(link), undefined, defaultPk);
        callback(
          withCallback(options, cb),
          res.status >= 400 ? { number: res.status } : null,
          res.status < 400 ? JSON.parse(res.body) : undefined
        );
      }),
    createDocument: write('POST', () => docsUrl),
    upsertDocument: write('POST', () => docsUrl, true),
    replaceDocument: write('PUT', docUrl),
    deleteDocument: (link: string, options?: unknown, cb?: unknown) =>
      enqueue(async () => {
        const res = await call('DELETE', docUrl(link), undefined, defaultPk);
        callback(withCallback(options, cb), res.status >= 400 ? { number: res.status } : null);
      }),
  };
  const response = {
    getBody: () => result.response.body,
    setBody: (body: unknown) => {
      result.response.body = body;
    },
    appendValue: (_name: unknown, value: unknown) => {
      result.response.body = appended(result.response.body, value);
    },
    appendBody: (value: unknown) => {
      result.response.body = appended(result.response.body, value);
    },
  };
  const request = {
    getBody: () => result.request.body,
    setBody: (body: unknown) => {
      result.request.body = body;
    },
    getValue: (name: string) => (result.request.body as Json | undefined)?.[name],
    setValue: (name: string, value: unknown) => {
      if (result.request.body && typeof result.request.body === 'object') (result.request.body as Json)[name] = value;
    },
  };
  const context = { getCollection: () => collection, getResponse: () => response, getRequest: () => request };
  const format = (...parts: unknown[]) => {
    const [first, ...rest] = parts;
    let line = String(first);
    for (const value of rest)
      line = line.includes('%s') ? line.replace('%s', String(value)) : `${line} ${String(value)}`;
    return line;
  };
  const sandbox = {
    getContext: () => context,
    __: collection,
    console: { log: (...parts: unknown[]) => result.logs.push(format(...parts)) },
    __args: args,
  };
  try {
    vm.runInNewContext(`(${source}).apply(null, __args)`, sandbox, { timeout: 5000 });
  } catch (err) {
    result.error = typeof err === 'string' ? err : String((err as Error)?.message ?? err);
  }
  // Callbacks may start further operations: wait until the queue stays empty.
  for (let seen: Promise<void> | undefined; seen !== pending;) {
    seen = pending;
    await pending;
  }
  return result;
}

/** A document write with triggers: pre-triggers may change the document; post-triggers see the result. */
export async function writeWithTriggers(
  engine: Engine,
  request: RawRequest,
  route: ReturnType<typeof classify>,
  run: (request: RawRequest) => Promise<RawResponse>
): Promise<RawResponse> {
  const pre = request.headers['x-ms-documentdb-pre-trigger-include'];
  const post = request.headers['x-ms-documentdb-post-trigger-include'];
  if (!fixEnabled('scripts') || (pre === undefined && post === undefined) || !route.database || !route.container) {
    return run(request);
  }
  const container = await containerOf(engine, route.database, route.container);
  if (!container) return run(request);
  const triggers = storeOf(container).triggers;
  const names = (header: string | undefined) =>
    (header ?? '')
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n.length > 0);
  // A trigger applies to its operation (TriggerOperation: all, create, update, delete, replace); another is a 400.
  const operations: Record<string, string[]> = {
    create: ['create'],
    upsert: ['create', 'replace', 'update'],
    replace: ['replace', 'update'],
    delete: ['delete'],
  };
  const applies = (trigger: Json) => {
    const op = typeof trigger.triggerOperation === 'string' ? trigger.triggerOperation.toLowerCase() : 'all';
    return op === 'all' || (operations[route.action] ?? []).includes(op);
  };
  for (const name of [...names(pre), ...names(post)]) {
    const trigger = triggers.get(name);
    if (trigger && !applies(trigger)) {
      return json(400, {
        code: 'BadRequest',
        message: `Trigger ${name} is for ${String(trigger.triggerOperation)} operations, not ${route.action}.`,
      });
    }
  }
  let body: unknown = request.body === '' ? undefined : (JSON.parse(request.body) as unknown);
  for (const name of names(pre)) {
    const trigger = triggers.get(name);
    if (!trigger || String(trigger.triggerType).toLowerCase() !== 'pre') {
      return json(400, { code: 'BadRequest', message: `Pre-trigger ${name} does not exist.` });
    }
    const ran = await runScript(
      engine,
      route.database,
      route.container,
      container,
      String(trigger.body),
      [],
      request.headers,
      {
        requestBody: body,
      }
    );
    if (ran.error !== undefined) return json(400, { code: 'BadRequest', message: `Trigger ${name}: ${ran.error}` });
    body = ran.request.body;
  }
  const response = await run({ ...request, body: body === undefined ? '' : JSON.stringify(body) });
  if (response.status >= 400) return response;
  for (const name of names(post)) {
    const trigger = triggers.get(name);
    if (!trigger || String(trigger.triggerType).toLowerCase() !== 'post') {
      return json(400, { code: 'BadRequest', message: `Post-trigger ${name} does not exist.` });
    }
    const ran = await runScript(
      engine,
      route.database,
      route.container,
      container,
      String(trigger.body),
      [],
      request.headers,
      {
        requestBody: body,
        responseBody: response.body === '' ? undefined : (JSON.parse(response.body) as unknown),
      }
    );
    if (ran.error !== undefined) return json(400, { code: 'BadRequest', message: `Trigger ${name}: ${ran.error}` });
  }
  return response;
}
