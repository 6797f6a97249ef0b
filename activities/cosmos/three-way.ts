/**
 * The three-way revert of one document, like `git revert` (docs/architecture.md §5): base = the document before the
 * migration, ours = what the migration wrote (`up(base)`, recomputed), theirs = the live document. Pure functions on
 * top-level fields; a nested object or array is compared deep-equal as a whole. An absent field is a value of its own
 * (absent ≠ null). System fields (`_rid`, `_etag`, ...) are ignored.
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

/** Top-level fields whose values differ between a and b (system fields ignored). */
export function differingFields(a: Doc, b: Doc): string[] {
  const ca = contentOf(a);
  const cb = contentOf(b);
  return fieldsOf(ca, cb).filter((f) => !sameValue(ca[f], cb[f]));
}

export interface ThreeWayResult {
  /** Live equals what the migration wrote: the result is exactly base. */
  untouchedSince: boolean;
  /** The document to write (theirs with the reverted fields), without system fields. */
  result: Doc;
  /** Fields the migration changed and the application did not: given back their base value (or removed). */
  reverted: string[];
  /** Fields the migration changed and the application changed too: left as the application wrote them. */
  conflicts: string[];
}

/**
 * For each field the migration changed (base[f] ≠ ours[f]): if the application left it as the migration wrote it
 * (ours[f] = theirs[f]), it goes back to base[f] (removed when base had none); otherwise it is a conflict and keeps
 * the application's value. Fields the migration did not change keep the live value: the application's writes stay.
 */
export function threeWay(baseDoc: Doc, oursDoc: Doc, theirsDoc: Doc): ThreeWayResult {
  const base = contentOf(baseDoc);
  const ours = contentOf(oursDoc);
  const theirs = contentOf(theirsDoc);
  const result: Doc = { ...theirs };
  const reverted: string[] = [];
  const conflicts: string[] = [];
  for (const field of fieldsOf(base, ours, theirs)) {
    if (sameValue(base[field], ours[field])) continue;
    if (sameValue(ours[field], theirs[field])) {
      if (field in base) result[field] = base[field];
      else delete result[field];
      reverted.push(field);
    } else {
      conflicts.push(field);
    }
  }
  const untouchedSince = conflicts.length === 0 && fieldsOf(ours, theirs).every((f) => sameValue(ours[f], theirs[f]));
  return { untouchedSince, result: untouchedSince ? base : result, reverted, conflicts };
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
