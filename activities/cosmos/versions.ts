/**
 * Which documents a migration touches, and how it stamps them (Cosmos's schema-versioning pattern).
 * A document's version is doc[versionField]; a missing field counts as fromVersion (documents written before
 * versioning). `up` takes fromVersion (or missing) to toVersion; `down` takes toVersion back to fromVersion.
 * Documents at any other version are left alone. Migrated documents stop being candidates, so a re-run is harmless.
 */
import type { SqlQuerySpec } from '@azure/cosmos';
import type { Direction } from '../../common/activities';
import type { MigrationDocument } from '../../common/migration';

export type Version = number | string;

export interface VersionRule {
  field: string;
  from: Version;
  to: Version;
  direction: Direction;
}

/** `c["field"]`: bracket notation works for any field name, reserved words included. */
export function fieldRef(field: string): string {
  return `c[${JSON.stringify(field)}]`;
}

/** The WHERE condition of the documents this direction migrates, with its parameters. */
export function candidateCondition(rule: VersionRule): {
  where: string;
  parameters: { name: string; value: Version }[];
} {
  const f = fieldRef(rule.field);
  return rule.direction === 'up'
    ? {
        where: `(NOT IS_DEFINED(${f}) OR ${f} = @fromVersion)`,
        parameters: [{ name: '@fromVersion', value: rule.from }],
      }
    : { where: `${f} = @toVersion`, parameters: [{ name: '@toVersion', value: rule.to }] };
}

export function candidateQuery(rule: VersionRule, select = 'SELECT * FROM c'): SqlQuerySpec {
  const { where, parameters } = candidateCondition(rule);
  return { query: `${select} WHERE ${where}`, parameters };
}

export function isCandidate(rule: VersionRule, doc: MigrationDocument): boolean {
  const value = doc[rule.field];
  return rule.direction === 'up' ? value === undefined || value === rule.from : value === rule.to;
}

/** The version a migrated document carries: up stamps toVersion; down stamps fromVersion unless down() removed the field. */
export function stamp(rule: VersionRule, result: MigrationDocument): MigrationDocument {
  if (rule.direction === 'up') return { ...result, [rule.field]: rule.to };
  // absent ≡ fromVersion: a down() that deletes the field restores a pre-versioning document byte for byte.
  return rule.field in result ? { ...result, [rule.field]: rule.from } : result;
}

/** The version a direction leads to, as the key of countsByVersion. */
export function targetVersion(rule: VersionRule): Version {
  return rule.direction === 'up' ? rule.to : rule.from;
}

export const MISSING_VERSION_KEY = '(missing)';
export const OTHER_VERSION_KEY = '(other)';
