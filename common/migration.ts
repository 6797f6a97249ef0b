/**
 * The migration-definition API (a public contract: docs/migrations.md). A migration module's default export is a plain object of this
 * shape, so a module needs no import from this package; `defineMigration` only adds types.
 */

/** A Cosmos document as the transform sees it: a copy, system properties (`_rid`, `_etag`, ...) included. */
export type MigrationDocument = { id: string; [field: string]: unknown };

/** Indexing policy, in the shape Cosmos and ARM use. */
export interface IndexingPolicy {
  indexingMode?: 'consistent' | 'none' | 'lazy';
  automatic?: boolean;
  includedPaths?: { path: string }[];
  excludedPaths?: { path: string }[];
  compositeIndexes?: { path: string; order?: 'ascending' | 'descending' }[][];
  spatialIndexes?: { path: string; types: string[] }[];
}

/** A partition key: a path such as `/tenantId`, or the full definition. */
export type PartitionKeySpec = string | { paths: string[]; kind?: 'Hash' | 'MultiHash'; version?: number };

export interface ContainerCreateStep {
  partitionKey: PartitionKeySpec;
  indexingPolicy?: IndexingPolicy;
  /** Dedicated manual throughput in RU/s (none: the database's shared throughput, or serverless). */
  throughput?: number;
}

/**
 * Container steps, applied through ARM before documents are migrated (and undone on `down`).
 * `name` is the target container when the module does not give `container` as a string.
 */
export interface ContainerSteps {
  name?: string;
  create?: ContainerCreateStep;
  indexingPolicy?: IndexingPolicy;
  throughput?: number;
}

export interface Relationship {
  name: string;
  /** A SQL query on the target container that must return no rows once the migration is done. */
  query: string;
}

/**
 * A query the application depends on, measured before and after the migration (runDeclaredQueries) so that a lost
 * index or a jump in RU shows in the report and can stop the run.
 */
export interface DeclaredQuery {
  /** Unique in the module; names the query in reports. */
  name: string;
  /** Cosmos SQL on the target container, e.g. `SELECT * FROM c WHERE c.tenantId = @t AND c.lastName = @n`. */
  query: string;
  /** Values for the query's `@` parameters (plain JSON). */
  parameters?: { name: string; value: unknown }[];
  /** The RU charge after the migration may be at most this many times the charge before. @default 2 */
  maxRuGrowth?: number;
}

export const DEFAULT_MAX_RU_GROWTH = 2;

export type Transform = (
  doc: MigrationDocument
) => MigrationDocument | undefined | Promise<MigrationDocument | undefined>;

/**
 * Copy mode (docs/migrations.md "Copy mode: repartitioning"): the documents are copied, through `up()`, into a new
 * container with its own partition key; the source container is only read. The run creates this container through ARM
 * and refuses one that exists and is not empty.
 */
export interface CopyTarget {
  /** The new container, in the migration's database. */
  container: string;
  /** Its partition key: `up()` derives it (it must also keep the source's partition key fields, see docs). */
  partitionKey: PartitionKeySpec;
  indexingPolicy?: IndexingPolicy;
  /** Unique keys of the new container, as Cosmos defines them (each a list of paths, unique per logical partition). */
  uniqueKeys?: { paths: string[] }[];
  /** Dedicated manual throughput in RU/s while the copy runs. */
  throughput?: number;
  /**
   * Dedicated manual throughput in RU/s set at the cutover point, once the copy's own writes are done (the backfill's
   * RU/s are no longer needed): the step that lowers it. Needs `throughput`.
   */
  throughputAfterCopy?: number;
}

export interface Migration {
  id: string;
  description: string;
  database?: string;
  /** The target container's name, or its container steps (with `name`). */
  container: string | ContainerSteps;
  /** The document field that holds the schema version. @default "schemaVersion" */
  versionField?: string;
  fromVersion?: number | string;
  toVersion?: number | string;
  // Method signatures (not function-typed properties) so a module may type its parameter more narrowly,
  // e.g. `up(doc: Customer)`: the engine only ever passes the documents the version rule selects.
  /** Returns the new document, or `undefined` to leave the document as it is. Must not change `id` or the partition key. */
  up?(doc: MigrationDocument): ReturnType<Transform>;
  down?(doc: MigrationDocument): ReturnType<Transform>;
  /** Checks a migrated document: `true`, or a message saying what is wrong. */
  verify?(doc: MigrationDocument): true | string | Promise<true | string>;
  relationships?: Relationship[];
  /** Queries to measure before and after (RU, latency, index use). */
  queries?: DeclaredQuery[];
  /** Copy mode: copy `up()` of every document into this new container instead of rewriting them in place. */
  target?: CopyTarget;
}

/** Adds types to a migration module's default export; returns it unchanged. */
export function defineMigration<M extends Migration>(migration: M): M {
  return migration;
}

export const DEFAULT_VERSION_FIELD = 'schemaVersion';
