/**
 * From a migration id and the workflow's overrides to what the engine acts on: the module, its database and
 * container, its version rule and the transform of the direction asked for.
 */
import { ErrorType } from '../../common/errors';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MIGRATION_INVALID, type Direction, type ModuleRef } from '../../common/activities';
import { DEFAULT_VERSION_FIELD, type ContainerSteps, type Migration, type Transform } from '../../common/migration';
import type { LoadedMigration, MigrationRegistry } from '../deps';
import type { VersionRule } from './versions';

export interface MigrationTarget {
  loaded: LoadedMigration;
  definition: Migration;
  database: string;
  container: string;
  versionField: string;
  direction: Direction;
  /** Present when the module migrates documents. */
  rule?: VersionRule;
  /** The transform of this direction (up or down), when the module has one. */
  transform?: Transform;
  /** The module's container steps, when it gives container as an object. */
  steps?: ContainerSteps;
}

export interface TargetInput extends ModuleRef {
  direction: Direction;
  database?: string;
  container?: string;
}

/** Error type: the worker's copy of the module differs from the one the run loaded and approved. */
export const MIGRATION_CHANGED = ErrorType.MigrationChanged;

export function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, MIGRATION_INVALID);
}

export function resolveTarget(registry: MigrationRegistry, input: TargetInput): MigrationTarget {
  const loaded = registry.get(input.migration);
  if (input.checksum !== undefined && input.checksum !== loaded.checksum) {
    // Non-retryable: the run pauses at once with both checksums (retried, it would fail for as long as the retry
    // policy lasts and then the same way). Once every worker has the approved module, `resume` goes on.
    throw ApplicationFailure.nonRetryable(
      `this worker's migration ${input.migration} (checksum ${loaded.checksum.slice(0, 12)}, ${path.basename(loaded.file)}) is not the one the run approved (checksum ${input.checksum.slice(0, 12)}): deploy the same module to every worker`,
      MIGRATION_CHANGED
    );
  }
  const definition = loaded.definition;
  const steps = typeof definition.container === 'object' ? definition.container : undefined;
  const container = input.container || (typeof definition.container === 'string' ? definition.container : steps?.name);
  if (!container) throw invalid(`migration ${definition.id} names no container (give container, or container.name)`);
  const database = input.database || definition.database;
  if (!database) {
    throw invalid(`migration ${definition.id} names no database: give "database" in the workflow input or the module`);
  }
  const versionField = definition.versionField ?? DEFAULT_VERSION_FIELD;
  const migratesDocuments = definition.up !== undefined || definition.down !== undefined;
  if (input.direction === 'down' && migratesDocuments && typeof definition.down !== 'function') {
    throw invalid(`migration ${definition.id} has no down(); it cannot be reversed by a down migration`);
  }
  if (input.direction === 'up' && migratesDocuments && typeof definition.up !== 'function') {
    throw invalid(`migration ${definition.id} has no up()`);
  }
  const rule: VersionRule | undefined =
    migratesDocuments && definition.fromVersion !== undefined && definition.toVersion !== undefined
      ? { field: versionField, from: definition.fromVersion, to: definition.toVersion, direction: input.direction }
      : undefined;
  return {
    loaded,
    definition,
    database,
    container,
    versionField,
    direction: input.direction,
    rule,
    // bound: a module may call its own helpers through `this`
    transform: input.direction === 'up' ? definition.up?.bind(definition) : definition.down?.bind(definition),
    steps,
  };
}
