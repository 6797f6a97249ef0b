/**
 * Management operations for the ARM imitation: in-process, through the engine (so fixes apply and the backup log
 * records them), but around the RU model and fault injection, which only the HTTPS front door applies.
 */
import { keepingTimestamps } from './restored-timestamps';
import type { RawResponse } from './dispatch';
import type { Engine } from './engine';
import type { BackupLogFile } from './backup-log';
import { classify } from './routes';
import type { ContainerState, EmulatorAdmin, ScriptKind } from './types';
import { handleScripts, isScriptRequest } from './scripts';

/** System properties the emulator assigns on every write; a rebuild sends none (`_ts` comes back through restored-timestamps.ts). */
const DOCUMENT_SYSTEM_PROPERTIES = ['_rid', '_etag', '_ts', '_self'];

const dbUrl = (db: string) => `/dbs/${encodeURIComponent(db)}`;
const collUrl = (db: string, coll: string) => `${dbUrl(db)}/colls/${encodeURIComponent(coll)}`;

type Json = Record<string, unknown>;

export class Admin implements EmulatorAdmin {
  constructor(
    private readonly engine: Engine,
    private readonly backup: BackupLogFile
  ) {}

  async readDatabase(database: string): Promise<Json | null> {
    const res = await this.call('GET', dbUrl(database));
    return res.status === 404 ? null : expect(res, 200, `reading database "${database}"`);
  }

  async createDatabase(database: string): Promise<Json> {
    return expect(await this.call('POST', '/dbs', { id: database }), 201, `creating database "${database}"`);
  }

  async deleteDatabase(database: string): Promise<void> {
    expect(await this.call('DELETE', dbUrl(database)), 204, `deleting database "${database}"`);
  }

  async listContainers(database: string): Promise<Json[]> {
    const res = await this.call('GET', `${dbUrl(database)}/colls`);
    return (expect(res, 200, `listing containers of database "${database}"`).DocumentCollections as Json[]) ?? [];
  }

  /** Every document as the primary holds it now (no replica lag: session-consistency.ts applies to clients only). */
  async listDocuments(database: string, container: string): Promise<Json[]> {
    const res = await this.call('GET', `${collUrl(database, container)}/docs`);
    return (expect(res, 200, `listing documents of "${database}/${container}"`).Documents as Json[]) ?? [];
  }

  async readContainer(database: string, container: string): Promise<Json | null> {
    const res = await this.call('GET', collUrl(database, container));
    return res.status === 404 ? null : expect(res, 200, `reading container "${database}/${container}"`);
  }

  async createContainer(database: string, definition: Json): Promise<Json> {
    const res = await this.call('POST', `${dbUrl(database)}/colls`, definition);
    return expect(res, 201, `creating container "${database}/${String(definition.id)}"`);
  }

  async replaceContainer(database: string, definition: Json): Promise<Json> {
    const id = String(definition.id);
    return expect(
      await this.call('PUT', collUrl(database, id), definition),
      200,
      `replacing container "${database}/${id}"`
    );
  }

  async deleteContainer(database: string, container: string): Promise<void> {
    expect(
      await this.call('DELETE', collUrl(database, container)),
      204,
      `deleting container "${database}/${container}"`
    );
  }

  async rebuildContainer(database: string, container: string, at: Date): Promise<{ documentCount: number }> {
    const name = `"${database}/${container}"`;
    if (await this.readContainer(database, container)) {
      throw new Error(`Cannot rebuild container ${name} as of ${at.toISOString()}: it exists now.`);
    }
    const state = this.backup.containerAt(database, container, at);
    if (!state.definition) {
      throw new Error(
        `Cannot rebuild container ${name} as of ${at.toISOString()}: it did not exist then (nothing in the backup log).`
      );
    }
    if (!(await this.readDatabase(database))) {
      throw new Error(`Cannot rebuild container ${name}: database "${database}" does not exist now; create it first.`);
    }
    return this.loadContainer(database, state);
  }

  async loadContainer(
    database: string,
    state: ContainerState,
    options: { withTtlDisabled?: boolean } = {}
  ): Promise<{ documentCount: number }> {
    if (!state.definition) throw new Error(`Cannot load a container into "${database}": the state has no definition.`);
    const definition = containerDefinition(state.definition);
    if (options.withTtlDisabled) delete definition.defaultTtl;
    await this.createContainer(database, definition);
    // As Azure restores them: each document with the `_ts` it had (restored-timestamps.ts).
    await keepingTimestamps(definition, state.documents, () =>
      writeDocuments(this.engine, database, String(definition.id), state.documents, { log: true })
    );
    // Azure rebuilds a restored container's index before queries see all of it (index-transformation.ts).
    this.engine.indexing.start(database, String(definition.id), state.documents.length);
    return { documentCount: state.documents.length };
  }

  async listScripts(database: string, container: string, kind: ScriptKind): Promise<Json[]> {
    const res = await this.scriptCall('GET', scriptsUrl(database, container, kind));
    const feed = expect(res, 200, `listing the ${kind} of "${database}/${container}"`);
    const list = feed[SCRIPT_FEEDS[kind]];
    return Array.isArray(list) ? (list as Json[]) : [];
  }

  async putScript(database: string, container: string, kind: ScriptKind, definition: Json): Promise<Json> {
    const id = String(definition.id);
    const what = `writing ${kind}/${id} of "${database}/${container}"`;
    const created = await this.scriptCall('POST', scriptsUrl(database, container, kind), definition);
    if (created.status !== 409) return expect(created, 201, what);
    const url = `${scriptsUrl(database, container, kind)}/${encodeURIComponent(id)}`;
    return expect(await this.scriptCall('PUT', url, definition), 200, what);
  }

  async deleteScript(database: string, container: string, kind: ScriptKind, id: string): Promise<boolean> {
    const url = `${scriptsUrl(database, container, kind)}/${encodeURIComponent(id)}`;
    const res = await this.scriptCall('DELETE', url);
    if (res.status === 404) return false;
    expect(res, 204, `deleting ${kind}/${id} of "${database}/${container}"`);
    return true;
  }

  /** Stored procedures and triggers are served by scripts.ts (the stock server has no route), UDFs by the server. */
  private async scriptCall(method: string, url: string, body?: Json): Promise<RawResponse> {
    if (!isScriptRequest(url)) return this.call(method, url, body);
    const request = { method, url, headers: {}, body: body === undefined ? '' : JSON.stringify(body) };
    return handleScripts(request, this.engine);
  }

  private async call(method: string, url: string, body?: Json): Promise<RawResponse> {
    const headers = {};
    const { response } = await this.engine.execute(
      { method, url, headers, body: body === undefined ? '' : JSON.stringify(body) },
      classify(method, url, headers),
      { log: true }
    );
    return response;
  }
}

function expect(res: RawResponse, status: number, what: string): Json {
  if (res.status !== status) {
    let message = res.body;
    try {
      const parsed = (JSON.parse(res.body) as { message?: unknown }).message;
      message = typeof parsed === 'string' ? parsed : res.body;
    } catch {
      // not JSON: keep the raw text
    }
    throw new Error(`Local Cosmos emulator: ${what} failed with HTTP ${res.status}${message ? `: ${message}` : ''}`);
  }
  return res.body ? (JSON.parse(res.body) as Json) : {};
}

/** A container definition without the server-assigned properties (_rid, _self, _etag, _ts, _docs, ...). */
export function containerDefinition(definition: Json): Json {
  return Object.fromEntries(Object.entries(definition).filter(([k]) => !k.startsWith('_')));
}

const SCRIPT_FEEDS: Record<ScriptKind, string> = {
  sprocs: 'StoredProcedures',
  triggers: 'Triggers',
  udfs: 'UserDefinedFunctions',
};

const scriptsUrl = (db: string, coll: string, kind: ScriptKind) => `${collUrl(db, coll)}/${kind}`;

const BULK_SIZE = 100;

/** Writes documents into an empty container through the bulk endpoint, system properties removed. */
export async function writeDocuments(
  engine: Engine,
  database: string,
  container: string,
  documents: Json[],
  options: { log: boolean }
): Promise<void> {
  const url = `${collUrl(database, container)}/docs`;
  const headers = {
    'x-ms-cosmos-is-batch-request': 'true',
    'x-ms-cosmos-batch-atomic': 'false',
    'x-ms-cosmos-batch-continue-on-error': 'true',
  };
  const route = classify('POST', url, headers);
  for (let i = 0; i < documents.length; i += BULK_SIZE) {
    const ops = documents.slice(i, i + BULK_SIZE).map((doc) => ({
      operationType: 'Create',
      resourceBody: Object.fromEntries(Object.entries(doc).filter(([k]) => !DOCUMENT_SYSTEM_PROPERTIES.includes(k))),
    }));
    const { response, batch } = await engine.execute(
      { method: 'POST', url, headers, body: JSON.stringify(ops) },
      route,
      options
    );
    const failed = batch?.results.findIndex((r) => r.statusCode >= 300) ?? -1;
    if (!batch || failed >= 0) {
      const status = batch ? batch.results[failed]!.statusCode : response.status;
      throw new Error(
        `Local Cosmos emulator: writing documents into "${database}/${container}" failed with HTTP ${status}` +
          (batch ? ` for document "${String(ops[failed]!.resourceBody.id)}"` : '')
      );
    }
  }
}
