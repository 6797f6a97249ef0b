/**
 * Running a migration's transform on one document, with the engine's guarantees: the transform sees a copy, may not
 * change `id` or the partition key, must return a plain object that fits in a Cosmos document (2 MB), and anything
 * it throws becomes a recorded failure naming the document, never its contents.
 */
import type { Container, PartitionKey } from '@azure/cosmos';
import type { MigrationDocument, Transform } from '../../common/migration';
import { failureMessage } from '../../common/failure-message';
import { stamp, type VersionRule } from './versions';
import { withoutDocumentValues } from './redact';

/** Cosmos's document size limit. */
export const MAX_DOCUMENT_BYTES = 2 * 1024 * 1024;

export type TransformOutcome =
  { kind: 'change'; doc: MigrationDocument } | { kind: 'skip' } | { kind: 'fail'; error: string };

/** The container's partition key paths, e.g. ["/tenantId"], read once per activity. */
export async function readPartitionKeyPaths(container: Container): Promise<string[]> {
  const { resource } = await container.read();
  if (!resource) throw new Error(`container ${container.id} does not exist`);
  return resource.partitionKey?.paths ?? ['/id'];
}

function valueAt(doc: Record<string, unknown>, path: string): unknown {
  let current: unknown = doc;
  for (const part of path.split('/').slice(1)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** The document's partition key value in the SDK's shape: a value for one path, an array for hierarchical keys. */
export function partitionKeyOf(doc: Record<string, unknown>, paths: string[]): PartitionKey {
  const values = paths.map((p) => valueAt(doc, p));
  return (paths.length === 1 ? values[0] : values) as PartitionKey;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Transforms one document: `change` with the stamped result, `skip` when the transform returned undefined,
 * `fail` with a message (no document contents: withoutDocumentValues) when it threw or broke a rule.
 */
export async function runTransform(
  transform: Transform,
  original: MigrationDocument,
  rule: VersionRule,
  partitionKeyPaths: string[]
): Promise<TransformOutcome> {
  const outcome = await transformOnce(transform, original, rule, partitionKeyPaths);
  if (outcome.kind !== 'fail') return outcome;
  // The message may quote the document (user code wrote it): only its id and partition key may stay.
  const keep = [original.id, partitionKeyOf(original, partitionKeyPaths)];
  return { kind: 'fail', error: withoutDocumentValues(outcome.error, original, keep) };
}

async function transformOnce(
  transform: Transform,
  original: MigrationDocument,
  rule: VersionRule,
  partitionKeyPaths: string[]
): Promise<TransformOutcome> {
  let result: unknown;
  try {
    result = await transform(structuredClone(original));
  } catch (err) {
    return { kind: 'fail', error: `${rule.direction}() threw: ${failureMessage(err)}` };
  }
  if (result === undefined) return { kind: 'skip' };
  if (!isPlainObject(result)) {
    return {
      kind: 'fail',
      error: `${rule.direction}() must return a plain object or undefined, got ${describe(result)}`,
    };
  }
  if (result.id !== original.id) {
    return {
      kind: 'fail',
      error: `${rule.direction}() changed the id (to ${JSON.stringify(result.id)}); a migration may not change id`,
    };
  }
  const before = JSON.stringify(partitionKeyOf(original, partitionKeyPaths) ?? null);
  const after = JSON.stringify(partitionKeyOf(result, partitionKeyPaths) ?? null);
  if (before !== after) {
    return {
      kind: 'fail',
      error: `${rule.direction}() changed the partition key ${partitionKeyPaths.join(',')} (from ${before} to ${after}); a migration may not change it`,
    };
  }
  const stamped = stamp(rule, result as MigrationDocument);
  let bytes: number;
  try {
    bytes = Buffer.byteLength(JSON.stringify(stamped));
  } catch (err) {
    return { kind: 'fail', error: `${rule.direction}() returned a document that is not JSON: ${failureMessage(err)}` };
  }
  if (bytes > MAX_DOCUMENT_BYTES) {
    return { kind: 'fail', error: `${rule.direction}() returned ${bytes} bytes; Cosmos documents are limited to 2 MB` };
  }
  return { kind: 'change', doc: stamped };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object')
    return `an instance of ${(Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'a class'}`;
  return typeof value;
}
