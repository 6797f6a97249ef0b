/**
 * Comparing documents by content, as Cosmos stores them (JSON): system fields (`_rid`, `_etag`, ...) aside, object key
 * order aside, an absent field a value of its own (absent ≠ null). The revert compares whole documents with it
 * (revert.ts), the plan a round trip `down(up(doc))` field by field (plan.ts).
 */
import { SYSTEM_FIELDS } from './preimages';

type Doc = Record<string, unknown>;

/** JSON with object keys sorted, so equal values compare equal whatever order their keys were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Doc).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v
  );
}

/** Deep equality of two field values as Cosmos stores them (JSON); `undefined` is "absent". */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  return canonical(a) === canonical(b);
}

/** The document as Cosmos would store it (JSON: `undefined` fields dropped), without system fields. */
export function contentOf(doc: Doc): Doc {
  const json = JSON.parse(JSON.stringify(doc)) as Doc;
  for (const key of Object.keys(json)) if (SYSTEM_FIELDS.has(key)) delete json[key];
  return json;
}

function fieldsOf(...docs: Doc[]): string[] {
  return [...new Set(docs.flatMap((d) => Object.keys(d)))].sort();
}

/**
 * `down(up(doc))` against `doc`: the fields that differ. The version field counts as equal when one side lacks it
 * and the other holds `fromVersion` (absent ≡ fromVersion, the versioning rule).
 */
export function roundTripDifferences(
  original: Doc,
  roundTripped: Doc,
  versionField: string,
  fromVersion: unknown
): string[] {
  const a = contentOf(original);
  const b = contentOf(roundTripped);
  const version = (d: Doc) => (d[versionField] === undefined ? fromVersion : d[versionField]);
  return fieldsOf(a, b).filter((f) =>
    f === versionField ? !sameValue(version(a), version(b)) : !sameValue(a[f], b[f])
  );
}
