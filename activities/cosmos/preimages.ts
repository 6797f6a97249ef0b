/**
 * Pre-images (docs/architecture.md §5, rollback 1): with `preimages`, migrateRange stores each document as it was just before
 * replacing it, so `revertFromPreimages` can give back what the migration changed and keep what the application
 * wrote since.
 *
 * Where: the container `<container>-preimages` in the target's database, created through ARM with the target's
 * partition key definition; the pre-image carries the document's partition key value at the same paths, so it lands
 * in the same logical partition as the document (a key on `/id` is the exception: there the pre-image is keyed by its
 * own id). Only `migrationId` and `docId` are indexed: the image is never queried, and not indexing it keeps each
 * write at the price of storing it.
 *
 * Shape: `{ id, migrationId, docId, <partition key fields>, image, etagBefore, ridBefore, at }`. `image` is the document without
 * its system fields (`_rid`, `_self`, `_attachments`, `_ts`, `_etag`); `_etag` is kept as `etagBefore`.
 */
import crypto from 'node:crypto';
import type { Container } from '@azure/cosmos';
import { ApplicationFailure } from '@temporalio/common';
import { MIGRATION_INVALID, type ContainerRef, type PreimagesContainerResult } from '../../common/activities';
import type { IndexingPolicy, MigrationDocument, PartitionKeySpec } from '../../common/migration';
import { createContainer } from '../arm/ensure-container';
import { exportContainer, type ArmDeps } from '../arm/export';
import { statusOf } from './requests';

export const PREIMAGES_SUFFIX = '-preimages';

/** The fields a pre-image adds beside the document's partition key; a partition key path may not start with one. */
const PREIMAGE_FIELDS = new Set(['migrationId', 'docId', 'image', 'etagBefore', 'ridBefore', 'at']);

/** Cosmos's system properties, never part of a document's content. */
export const SYSTEM_FIELDS = new Set(['_rid', '_self', '_etag', '_attachments', '_ts', '_lsn']);

/** Cosmos limits ids to 1023 bytes. */
const MAX_ID_BYTES = 1023;

export interface StoredPreimage {
  id: string;
  migrationId: string;
  docId: string;
  image: Record<string, unknown>;
  etagBefore?: string;
  /** The document's `_rid` when it was migrated: a live document with another one was deleted and created again. */
  ridBefore?: string;
  /** ISO time the pre-image was written (the worker's clock). */
  at: string;
  [partitionKeyField: string]: unknown;
}

export function preimagesContainerName(container: string): string {
  return `${container}${PREIMAGES_SUFFIX}`;
}

/**
 * The characters Cosmos does not allow in an id ('/', '\\', '?', '#'), and '%' itself, percent-encoded; in the
 * migration id also ':', so the first ':' of a pre-image id always ends the migration id and ids never collide.
 */
function escapeIdPart(value: string, alsoColon: boolean): string {
  return value.replace(
    alsoColon ? /[%/\\?#:]/g : /[%/\\?#]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`
  );
}

/**
 * `${migrationId}:${docId}`, both escaped (see escapeIdPart). When that would pass Cosmos's 1023-byte limit, the
 * document id part is `%sha256-<hex of the id>`, which no escaped id can be. The revert reads `docId`, never the id.
 */
export function preimageId(migrationId: string, docId: string): string {
  const id = `${escapeIdPart(migrationId, true)}:${escapeIdPart(docId, false)}`;
  if (Buffer.byteLength(id) <= MAX_ID_BYTES) return id;
  const hash = crypto.createHash('sha256').update(docId).digest('hex');
  return `${escapeIdPart(migrationId, true)}:%sha256-${hash}`;
}

function segments(path: string): string[] {
  return path.split('/').slice(1);
}

function valueAt(doc: Record<string, unknown>, path: string): unknown {
  let current: unknown = doc;
  for (const part of segments(path)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function setAt(doc: Record<string, unknown>, path: string, value: unknown): void {
  const parts = segments(path);
  let current = doc;
  for (const part of parts.slice(0, -1)) {
    const next = current[part];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) current[part] = {};
    current = current[part] as Record<string, unknown>;
  }
  current[parts[parts.length - 1]!] = value;
}

/** A partition key path that would collide with a pre-image's own fields: the pre-images cannot mirror it. */
export function preimageKeyProblem(paths: string[]): string | undefined {
  const bad = paths.filter((p) => PREIMAGE_FIELDS.has(segments(p)[0] ?? ''));
  return bad.length > 0
    ? `partition key path(s) ${bad.join(', ')} collide with the pre-image fields (${[...PREIMAGE_FIELDS].join(', ')}); pre-images cannot be kept for this container`
    : undefined;
}

/** The document without Cosmos's system properties. */
export function withoutSystemFields(doc: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(doc).filter(([k]) => !SYSTEM_FIELDS.has(k)));
}

/** The pre-image of `original` (the document as read from the page, before the replace). */
export function preimageOf(
  migrationId: string,
  original: MigrationDocument,
  partitionKeyPaths: string[],
  at: string
): StoredPreimage {
  const preimage: StoredPreimage = {
    id: preimageId(migrationId, original.id),
    migrationId,
    docId: original.id,
    image: withoutSystemFields(original),
    ...(typeof original._etag === 'string' ? { etagBefore: original._etag } : {}),
    ...(typeof original._rid === 'string' ? { ridBefore: original._rid } : {}),
    at,
  };
  for (const path of partitionKeyPaths) {
    if (path === '/id') continue; // the pre-image's id is its own: keyed by it, it lands in a partition of its own
    const value = valueAt(original, path);
    if (value !== undefined) setAt(preimage, path, value);
  }
  return preimage;
}

/** Only what the revert queries is indexed; the image is stored, never indexed. */
function preimagesIndexingPolicy(): IndexingPolicy {
  return {
    indexingMode: 'consistent',
    automatic: true,
    includedPaths: [{ path: '/migrationId/?' }, { path: '/docId/?' }],
    excludedPaths: [{ path: '/*' }],
  };
}

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, MIGRATION_INVALID);
}

/**
 * ensurePreimagesContainer: `<container>-preimages` created through ARM when missing, with the target's partition
 * key definition. Idempotent; refuses an existing pre-images container whose partition key differs.
 */
export async function ensurePreimagesContainer(
  deps: ArmDeps,
  ref: ContainerRef & { throughput?: number }
): Promise<PreimagesContainerResult> {
  const target = await exportContainer(deps, ref);
  if (!target) throw invalid(`container ${ref.database}/${ref.container} does not exist: no pre-images to keep for it`);
  const pk = (target.resource.partitionKey ?? { paths: ['/id'] }) as {
    paths?: string[];
    kind?: string;
    version?: number;
  };
  const paths = pk.paths ?? ['/id'];
  const problem = preimageKeyProblem(paths);
  if (problem) throw invalid(`${ref.database}/${ref.container}: ${problem}`);
  const name = preimagesContainerName(ref.container);
  const existing = await exportContainer(deps, { database: ref.database, container: name });
  if (existing) {
    const have = (existing.resource.partitionKey as { paths?: string[] } | undefined)?.paths ?? [];
    if (JSON.stringify(have) !== JSON.stringify(paths)) {
      throw invalid(
        `the pre-images container ${ref.database}/${name} has partition key ${have.join(',')}, not ${paths.join(',')} like ${ref.container}; delete or rename it`
      );
    }
    return { name, created: false };
  }
  const spec: PartitionKeySpec = {
    paths,
    ...(pk.kind === 'Hash' || pk.kind === 'MultiHash' ? { kind: pk.kind } : {}),
    ...(pk.version !== undefined ? { version: pk.version } : {}),
  };
  await createContainer(
    deps,
    { database: ref.database, container: name },
    {
      partitionKey: spec,
      indexingPolicy: preimagesIndexingPolicy(),
      ...(ref.throughput !== undefined ? { throughput: ref.throughput } : {}),
    }
  );
  return { name, created: true };
}

/**
 * The pre-images container of `target` on the data plane, checked: it exists and has the target's partition key
 * paths. Non-retryable errors otherwise (the workflow must run ensurePreimagesContainer first).
 */
export async function openPreimagesContainer(target: Container, targetPaths: string[]): Promise<Container> {
  const name = preimagesContainerName(target.id);
  const container = target.database.container(name);
  let paths: string[] | undefined;
  try {
    const { resource } = await container.read();
    paths = resource?.partitionKey?.paths;
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
  if (!paths) {
    throw invalid(
      `the pre-images container ${target.database.id}/${name} does not exist: run ensurePreimagesContainer first`
    );
  }
  if (JSON.stringify(paths) !== JSON.stringify(targetPaths)) {
    throw invalid(
      `the pre-images container ${target.database.id}/${name} has partition key ${paths.join(',')}, not ${targetPaths.join(',')}`
    );
  }
  const problem = preimageKeyProblem(targetPaths);
  if (problem) throw invalid(`${target.database.id}/${target.id}: ${problem}`);
  return container;
}
