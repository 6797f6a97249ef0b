/**
 * What the target holds for one source document: `up()` of it (through runTransform, with the engine's rules: a copy,
 * the same id, a plain object within 2 MB, the version stamped), without Cosmos's system properties, so the target
 * holds exactly `up()` of the source and no field of the run's own. A document already past fromVersion is copied as
 * it is. Two more rules make a copy a copy:
 * - the new partition key must be present (a document without it would land in Cosmos's "undefined" logical
 *   partition, where every other such document collides with it);
 * - `up()` keeps the source's partition key fields (runTransform refuses a change): with the id they name the source
 *   document a target document came from, which is how the catch-up finds the copy a delete or a re-keying update
 *   must remove (activities/copy/sync.ts), with no marker field added.
 */
import type { PartitionKey } from '@azure/cosmos';
import type { MigrationDocument, Transform } from '../../common/migration';
import { partitionKeyOf, runTransform } from '../cosmos/transform';
import { isCandidate, type VersionRule } from '../cosmos/versions';

/** Properties Cosmos adds to every document (and `_lsn`, which the change feed adds): never copied. */
const SYSTEM_PROPERTIES = ['_rid', '_self', '_etag', '_attachments', '_ts', '_lsn'];

export function withoutSystemProperties(doc: MigrationDocument): MigrationDocument {
  const copy: Record<string, unknown> = { ...doc };
  for (const key of SYSTEM_PROPERTIES) delete copy[key];
  return copy as MigrationDocument;
}

export interface CopyShape {
  rule: VersionRule;
  transform: Transform;
  /** The module's down(), when it has one: what the reverse sync writes back to the source after the cutover. */
  down?: Transform;
  sourcePaths: string[];
  targetPaths: string[];
}

export type Derived =
  | { kind: 'copy'; doc: MigrationDocument; partitionKey: PartitionKey; source: string }
  | { kind: 'fail'; error: string };

/** The source identity (source partition key and id) as one string: what names a copy in the target. */
export function sourceKeyOf(doc: Record<string, unknown>, sourcePaths: string[]): string {
  return JSON.stringify([partitionKeyOf(doc, sourcePaths) ?? null, doc.id]);
}

/** The target document of `source` (its system properties ignored), or why there is none. */
export async function derive(shape: CopyShape, source: MigrationDocument): Promise<Derived> {
  const plain = withoutSystemProperties(source);
  let doc: MigrationDocument = plain;
  if (isCandidate(shape.rule, plain)) {
    const outcome = await runTransform(shape.transform, plain, shape.rule, shape.sourcePaths);
    if (outcome.kind === 'fail') return outcome;
    if (outcome.kind === 'change') doc = withoutSystemProperties(outcome.doc);
  }
  const missing = shape.targetPaths.filter((p) => valueAt(doc, p) === undefined);
  if (missing.length > 0) {
    return {
      kind: 'fail',
      error: `the new partition key ${missing.join(',')} is missing (up() must derive it); not copied`,
    };
  }
  return {
    kind: 'copy',
    doc,
    partitionKey: partitionKeyOf(doc, shape.targetPaths),
    source: sourceKeyOf(doc, shape.sourcePaths),
  };
}

/**
 * What the source holds for a target document the application wrote after the cutover: `down()` of it (the engine's
 * rules, the version stamped back), which must keep the source's partition key fields the target document carries.
 * `source` is the target document's own key (target partition key and id): where the reverse sync's changes come from.
 */
export async function deriveBack(shape: CopyShape, targetDoc: MigrationDocument): Promise<Derived> {
  if (!shape.down) return { kind: 'fail', error: 'the module has no down(); nothing can be written back' };
  const plain = withoutSystemProperties(targetDoc);
  let doc: MigrationDocument = plain;
  const rule: VersionRule = { ...shape.rule, direction: 'down' };
  if (isCandidate(rule, plain)) {
    const outcome = await runTransform(shape.down, plain, rule, shape.sourcePaths);
    if (outcome.kind === 'fail') return outcome;
    if (outcome.kind === 'change') doc = withoutSystemProperties(outcome.doc);
  }
  const missing = shape.sourcePaths.filter((p) => valueAt(doc, p) === undefined);
  if (missing.length > 0) {
    return { kind: 'fail', error: `the source partition key ${missing.join(',')} is missing; not written back` };
  }
  return {
    kind: 'copy',
    doc,
    partitionKey: partitionKeyOf(doc, shape.sourcePaths),
    source: JSON.stringify([partitionKeyOf(targetDoc, shape.targetPaths) ?? null, targetDoc.id]),
  };
}

function valueAt(doc: Record<string, unknown>, path: string): unknown {
  let current: unknown = doc;
  for (const part of path.split('/').slice(1)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
