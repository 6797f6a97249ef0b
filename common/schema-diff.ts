/**
 * The schema record: which field paths a transform adds, removes or changes the JSON type of, from the
 * plan's sample before and after `up`. Field NAMES only (dot paths; `[]` for the objects inside an array), never
 * values. Cosmos's system properties (`_rid`, `_etag`, `_ts`, `_self`, `_attachments`, `_lsn`) are ignored.
 */
import type { SchemaChanges } from './activities';

export type { SchemaChanges };

type JsonType = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

const SYSTEM = new Set(['_rid', '_etag', '_ts', '_self', '_attachments', '_lsn']);

function typeOf(value: unknown): JsonType | undefined {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'boolean':
    case 'number':
    case 'string':
      return typeof value as JsonType;
    case 'object':
      return 'object';
    default:
      return undefined; // undefined, functions: not stored
  }
}

/** Every field path of one document with the JSON type(s) found there. */
function pathsOf(value: unknown, prefix: string, into: Map<string, Set<JsonType>>, top: boolean): void {
  if (Array.isArray(value)) {
    for (const item of value) if (typeOf(item) === 'object') pathsOf(item, `${prefix}[]`, into, false);
    return;
  }
  if (typeOf(value) !== 'object') return;
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    if (top && SYSTEM.has(key)) continue;
    const type = typeOf(child);
    if (type === undefined) continue;
    const path = prefix ? `${prefix}.${key}` : key;
    let types = into.get(path);
    if (!types) into.set(path, (types = new Set()));
    types.add(type);
    pathsOf(child, path, into, false);
  }
}

function schemaOf(docs: object[]): Map<string, Set<JsonType>> {
  const paths = new Map<string, Set<JsonType>>();
  for (const doc of docs) pathsOf(doc, '', paths, true);
  return paths;
}

function diff(before: Map<string, Set<JsonType>>, after: Map<string, Set<JsonType>>, into: SchemaSets): void {
  for (const [path, types] of after) {
    const was = before.get(path);
    if (!was) into.added.add(path);
    else if ([...types].some((t) => !was.has(t)) || [...was].some((t) => !types.has(t))) into.changed.add(path);
  }
  for (const path of before.keys()) if (!after.has(path)) into.removed.add(path);
}

interface SchemaSets {
  added: Set<string>;
  removed: Set<string>;
  changed: Set<string>;
}

/**
 * `before[i]` and `after[i]` are the same document before and after the transform: each pair is compared and the
 * differences are summed up. When the lists differ in length, the two sides' unions are compared instead.
 */
export function schemaChanges(before: object[], after: object[]): SchemaChanges {
  const sets: SchemaSets = { added: new Set(), removed: new Set(), changed: new Set() };
  if (before.length === after.length) {
    before.forEach((doc, i) => diff(schemaOf([doc]), schemaOf([after[i]!]), sets));
  } else {
    diff(schemaOf(before), schemaOf(after), sets);
  }
  const sorted = (s: Set<string>) => [...s].sort();
  return { added: sorted(sets.added), removed: sorted(sets.removed), changed: sorted(sets.changed) };
}
