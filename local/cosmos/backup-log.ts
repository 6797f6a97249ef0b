/**
 * Continuous backup: every acknowledged write, appended with its time to an append-only JSONL file before the
 * response leaves the emulator, so any container can be rebuilt as of a time T and all data survives a restart.
 *
 * Documents are logged as they resulted (the response body), so a replay never re-executes patches or conditions.
 * Times are ms (Date.now()), strictly increasing per logged request: a request in the same ms as the previous one
 * gets the next ms. The operations of one batch/bulk request share one time (they were acknowledged together).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BackupLog, ContainerEvent, ContainerState, DatabaseEvent } from './types';

export type LogEvent =
  | { t: number; type: 'database'; op: 'Create' | 'Delete'; db: string }
  | {
      t: number;
      type: 'container';
      op: 'Create' | 'Replace' | 'Delete';
      db: string;
      coll: string;
      definition?: Record<string, unknown>;
    }
  | {
      t: number;
      type: 'document';
      op: 'Upsert' | 'Delete';
      db: string;
      coll: string;
      id: string;
      /** Partition key value (first path; the emulator ignores further paths), normalised: missing -> null. */
      pk: unknown;
      doc?: Record<string, unknown>;
    };

/** An event before it is stamped with its time. */
export type PendingEvent = LogEvent extends infer E ? (E extends LogEvent ? Omit<E, 't'> : never) : never;

export const LOG_FILE = 'cosmos-backup.jsonl';

const docKey = (pk: unknown, id: string) => `${JSON.stringify(pk ?? null)}\u0000${id}`;
const containerKey = (db: string, coll: string) => `${db}\u0000${coll}`;

/** The partition key value of a document under a container definition, the way the emulator derives it. */
export function partitionKeyOf(definition: Record<string, unknown> | undefined, doc: Record<string, unknown>): unknown {
  const paths = (definition?.partitionKey as { paths?: string[] } | undefined)?.paths ?? [];
  const first = paths[0];
  // No path: the SDK sends "none" ([{}]) for such containers, so deletes arrive with null; key upserts the same way.
  if (!first) return null;
  let value: unknown = doc;
  for (const part of first.slice(1).split('/')) {
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  }
  return normalisePk(value);
}

/** A partition key as sent by the SDK (`["a"]`, `[5]`, `[{}]` for none) reduced to its first value. */
export function partitionKeyFromHeader(header: string | undefined): unknown {
  if (header === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(header);
  } catch {
    return normalisePk(header);
  }
  return normalisePk(Array.isArray(parsed) ? parsed[0] : parsed);
}

function normalisePk(value: unknown): unknown {
  if (value === undefined) return null;
  if (value && typeof value === 'object' && Object.keys(value).length === 0) return null;
  return value;
}

/** Folded state of every container, for replay on start. */
export interface FoldedAccount {
  databases: Set<string>;
  containers: Map<
    string,
    { db: string; definition: Record<string, unknown>; documents: Map<string, LogEvent & { type: 'document' }> }
  >;
}

export class BackupLogFile implements BackupLog {
  readonly file: string;
  private fd: number;
  private lastTime = 0;
  private readonly containerHistory: ContainerEvent[] = [];
  private readonly databaseHistory: DatabaseEvent[] = [];
  private firstTime: number | undefined;
  /** Current container definitions, to derive the partition key of logged documents. */
  private readonly definitions = new Map<string, Record<string, unknown>>();

  constructor(dataDir: string) {
    fs.mkdirSync(dataDir, { recursive: true });
    this.file = path.join(dataDir, LOG_FILE);
    dropTornTail(this.file);
    for (const event of this.readEvents()) this.remember(event);
    this.fd = fs.openSync(this.file, 'a');
  }

  /** The current definition of a container, as logged. */
  definition(db: string, coll: string): Record<string, unknown> | undefined {
    return this.definitions.get(containerKey(db, coll));
  }

  /** Appends the events of one acknowledged request, synchronously, under one strictly increasing time. */
  append(events: PendingEvent[]): void {
    if (events.length === 0) return;
    const t = Math.max(Date.now(), this.lastTime + 1);
    const stamped = events.map((e) => ({ t, ...e }));
    fs.writeSync(this.fd, stamped.map((e) => JSON.stringify(e) + '\n').join(''));
    stamped.forEach((e) => this.remember(e));
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  containerAt(database: string, container: string, at: Date): ContainerState {
    const limit = at.getTime();
    let definition: Record<string, unknown> | null = null;
    const documents = new Map<string, Record<string, unknown>>();
    for (const e of this.readEvents()) {
      if (e.t > limit) break;
      if (e.db !== database) continue;
      if (e.type === 'database') {
        if (e.op === 'Delete') {
          definition = null;
          documents.clear();
        }
      } else if (e.coll === container) {
        if (e.type === 'container') {
          if (e.op !== 'Replace') documents.clear();
          definition = e.op === 'Delete' ? null : (e.definition ?? null);
        } else if (e.op === 'Upsert' && e.doc) {
          documents.set(docKey(e.pk, e.id), e.doc);
        } else {
          documents.delete(docKey(e.pk, e.id));
        }
      }
    }
    return { definition, documents: definition ? [...documents.values()] : [] };
  }

  containerEvents(): ContainerEvent[] {
    return this.containerHistory.map((e) => ({ ...e, at: new Date(e.at) }));
  }

  databaseEvents(): DatabaseEvent[] {
    return this.databaseHistory.map((e) => ({ ...e, at: new Date(e.at) }));
  }

  firstEventTime(): Date | undefined {
    return this.firstTime === undefined ? undefined : new Date(this.firstTime);
  }

  /** The state at the end of the log: what a restarted emulator must hold. */
  foldAll(): FoldedAccount {
    const state: FoldedAccount = { databases: new Set(), containers: new Map() };
    for (const e of this.readEvents()) {
      if (e.type === 'database') {
        if (e.op === 'Create') state.databases.add(e.db);
        else {
          state.databases.delete(e.db);
          for (const [key, c] of state.containers) if (c.db === e.db) state.containers.delete(key);
        }
      } else if (e.type === 'container') {
        const key = containerKey(e.db, e.coll);
        const existing = state.containers.get(key);
        if (e.op === 'Delete') state.containers.delete(key);
        else if (e.op === 'Replace' && existing) existing.definition = e.definition ?? existing.definition;
        else state.containers.set(key, { db: e.db, definition: e.definition ?? { id: e.coll }, documents: new Map() });
      } else {
        const documents = state.containers.get(containerKey(e.db, e.coll))?.documents;
        if (!documents) continue;
        if (e.op === 'Upsert') documents.set(docKey(e.pk, e.id), e);
        else documents.delete(docKey(e.pk, e.id));
      }
    }
    return state;
  }

  private remember(e: LogEvent): void {
    this.lastTime = Math.max(this.lastTime, e.t);
    this.firstTime ??= e.t;
    if (e.type === 'database') {
      this.databaseHistory.push({ database: e.db, kind: e.op, at: new Date(e.t) });
      if (e.op === 'Delete') {
        for (const key of this.definitions.keys()) if (key.startsWith(`${e.db}\u0000`)) this.definitions.delete(key);
      }
    } else if (e.type === 'container') {
      this.containerHistory.push({ database: e.db, container: e.coll, kind: e.op, at: new Date(e.t) });
      const key = containerKey(e.db, e.coll);
      if (e.op === 'Delete') this.definitions.delete(key);
      else if (e.definition) this.definitions.set(key, e.definition);
    }
  }

  /** Every event in file order, read in chunks (the log may outgrow the largest string V8 can hold). */
  private *readEvents(): Generator<LogEvent> {
    if (!fs.existsSync(this.file)) return;
    let lineNumber = 0;
    for (const line of readLines(this.file)) {
      lineNumber++;
      if (line.trim() === '') continue;
      try {
        yield JSON.parse(line) as LogEvent;
      } catch (err) {
        throw new Error(`Backup log ${this.file} is corrupt at line ${lineNumber}: ${(err as Error).message}`);
      }
    }
  }
}

const CHUNK = 4 * 1024 * 1024;

/** The complete lines of a file, synchronously, without holding it whole in memory. */
function* readLines(file: string): Generator<string> {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(CHUNK);
    let carry = Buffer.alloc(0);
    for (;;) {
      const read = fs.readSync(fd, buffer, 0, CHUNK, null);
      if (read === 0) break;
      let data = Buffer.concat([carry, buffer.subarray(0, read)]);
      let newline = data.indexOf(0x0a);
      while (newline >= 0) {
        yield data.subarray(0, newline).toString('utf8');
        data = data.subarray(newline + 1);
        newline = data.indexOf(0x0a);
      }
      carry = Buffer.from(data);
    }
    // A last line without its newline is a torn write, cut on open (dropTornTail); ignore it here too.
  } finally {
    fs.closeSync(fd);
  }
}

/** A line without its newline was never acknowledged (a crash mid-write): cut it so the next append starts clean. */
function dropTornTail(file: string): void {
  if (!fs.existsSync(file)) return;
  const fd = fs.openSync(file, 'r');
  let keep = 0;
  try {
    const size = fs.fstatSync(fd).size;
    const buffer = Buffer.alloc(64 * 1024);
    let end = size;
    if (size === 0) return;
    fs.readSync(fd, buffer, 0, 1, size - 1);
    if (buffer[0] === 0x0a) return;
    // Scan backwards for the last newline.
    while (end > 0) {
      const start = Math.max(0, end - buffer.length);
      const read = fs.readSync(fd, buffer, 0, end - start, start);
      const at = buffer.subarray(0, read).lastIndexOf(0x0a);
      if (at >= 0) {
        keep = start + at + 1;
        break;
      }
      end = start;
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.truncateSync(file, keep);
}
