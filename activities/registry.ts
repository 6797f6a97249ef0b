/**
 * The migration registry: every module in MIGRATIONS_DIR, loaded and checked once when the worker starts.
 * A module's default export (or `module.exports`) is the migration. All problems are reported at once, one line
 * each naming the file and the field, so a platform engineer fixes them in one go.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { MIGRATION_INVALID } from '../common/activities';
import { checkCopyTarget } from '../common/copy-target';
import type { ContainerSteps, Migration } from '../common/migration';
import type { LoadedMigration, MigrationRegistry } from './deps';

const MODULE_EXTENSIONS = ['.ts', '.js', '.mjs', '.cjs', '.mts', '.cts'];

/** Files that are not migrations: declarations, tests, and anything starting with `_` (shared helpers). */
function isMigrationFile(name: string): boolean {
  if (name.startsWith('_') || name.startsWith('.')) return false;
  if (/\.d\.[mc]?ts$/.test(name)) return false;
  if (/\.(test|spec)\.[mc]?[jt]s$/.test(name)) return false;
  return MODULE_EXTENSIONS.includes(path.extname(name));
}

let typeScriptLoader = false;

/**
 * TypeScript modules need a loader: under `tsx` (npm run worker) there is one; the compiled worker
 * (`cosmos-runbook worker`, dist/) registers tsx's CommonJS hook (tsx/cjs/api `register`) the first time it meets one.
 */
function ensureTypeScriptLoader(file: string): void {
  if (typeScriptLoader || !/\.[mc]?ts$/.test(file)) return;
  typeScriptLoader = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- tsx's hook, loaded only when a .ts module is met
  if (!require.extensions['.ts']) (require('tsx/cjs/api') as { register(): unknown }).register();
}

/** Loads a module the way the worker runs: tsx makes `.ts` requirable; Node ≥ 20.19 can `require()` ESM. */
async function importModule(file: string): Promise<unknown> {
  ensureTypeScriptLoader(file);
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a module path known only at run time
    return require(file);
  } catch (err) {
    const code = (err as { code?: string }).code;
    // ESM that require() cannot take (older Node, or top-level await): a real dynamic import, which TypeScript's
    // CommonJS output would otherwise turn back into require().
    if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE') {
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the one way to keep import() out of CommonJS output
      const dynamicImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<unknown>;
      return dynamicImport(pathToFileURL(file).href);
    }
    throw err;
  }
}

function defaultExport(mod: unknown): unknown {
  if (mod && typeof mod === 'object' && 'default' in mod) {
    const inner = mod.default;
    // `export default` compiled to CommonJS and then imported again can nest one level more.
    if (inner && typeof inner === 'object' && 'default' in inner && (inner as { __esModule?: boolean }).__esModule) {
      return inner.default;
    }
    return inner;
  }
  return mod;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isVersion(value: unknown): boolean {
  return (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value !== '');
}

/** Checks one container-steps object; returns problems as "field: what is wrong". */
export function checkContainerSteps(steps: ContainerSteps): string[] {
  const problems: string[] = [];
  const checkThroughput = (field: string, value: unknown) => {
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 400) {
      problems.push(`${field}: must be an integer of at least 400 RU/s (got ${JSON.stringify(value)})`);
    }
  };
  const checkPolicy = (field: string, value: unknown) => {
    if (value !== undefined && !isPlainObject(value)) problems.push(`${field}: must be an indexing policy object`);
  };
  if (steps.name !== undefined && (typeof steps.name !== 'string' || steps.name === '')) {
    problems.push('container.name: must be a non-empty string');
  }
  if (steps.create !== undefined) {
    if (!isPlainObject(steps.create)) {
      problems.push('container.create: must be an object with partitionKey');
    } else {
      const pk = steps.create.partitionKey;
      const paths = typeof pk === 'string' ? [pk] : isPlainObject(pk) && Array.isArray(pk.paths) ? pk.paths : undefined;
      if (!paths || paths.length === 0) {
        problems.push('container.create.partitionKey: missing (a path such as "/tenantId")');
      } else {
        for (const p of paths) {
          if (typeof p !== 'string' || !p.startsWith('/') || p.length < 2) {
            problems.push(`container.create.partitionKey: ${JSON.stringify(p)} must be a path starting with "/"`);
          }
        }
      }
      checkPolicy('container.create.indexingPolicy', steps.create.indexingPolicy);
      checkThroughput('container.create.throughput', steps.create.throughput);
    }
  }
  checkPolicy('container.indexingPolicy', steps.indexingPolicy);
  checkThroughput('container.throughput', steps.throughput);
  return problems;
}

/** Checks a module's export; returns problems as "field: what is wrong" (`down` missing is not one: see loadMigration). */
export function checkMigration(value: unknown): string[] {
  if (!isPlainObject(value))
    return ['default export: must be a migration object ({ id, description, container, ... })'];
  const m = value as Partial<Migration> & Record<string, unknown>;
  const problems: string[] = [];
  if (typeof m.id !== 'string' || m.id.trim() === '') problems.push('id: missing (a non-empty string)');
  if (typeof m.description !== 'string' || m.description.trim() === '') {
    problems.push('description: missing (say what the migration does)');
  }
  if (m.database !== undefined && (typeof m.database !== 'string' || m.database === '')) {
    problems.push('database: must be a non-empty string when given');
  }
  let hasSteps = false;
  if (m.container === undefined || m.container === null || m.container === '') {
    problems.push('container: missing (the target container name, or container steps with `name`)');
  } else if (typeof m.container === 'string') {
    // a plain name
  } else if (isPlainObject(m.container)) {
    const steps = m.container as ContainerSteps;
    if (steps.name === undefined) problems.push('container.name: missing (the target container name)');
    problems.push(...checkContainerSteps(steps));
    hasSteps = steps.create !== undefined || steps.indexingPolicy !== undefined || steps.throughput !== undefined;
  } else {
    problems.push('container: must be a container name or an object of container steps');
  }
  for (const fn of ['up', 'down', 'verify'] as const) {
    if (m[fn] !== undefined && typeof m[fn] !== 'function') problems.push(`${fn}: must be a function`);
  }
  if (m.versionField !== undefined && (typeof m.versionField !== 'string' || m.versionField === '')) {
    problems.push('versionField: must be a non-empty string');
  }
  const transforms = m.up !== undefined || m.down !== undefined;
  if (transforms) {
    if (!isVersion(m.fromVersion)) problems.push('fromVersion: missing (needed by up/down; a number or string)');
    if (!isVersion(m.toVersion)) problems.push('toVersion: missing (needed by up/down; a number or string)');
    if (isVersion(m.fromVersion) && m.fromVersion === m.toVersion) {
      problems.push(
        `toVersion: equals fromVersion (${JSON.stringify(m.fromVersion)}); a migration must change the version`
      );
    }
  }
  if (!transforms && !hasSteps) {
    problems.push('up: the migration does nothing (give up/down to transform documents, or container steps)');
  }
  if (m.relationships !== undefined) {
    if (!Array.isArray(m.relationships)) {
      problems.push('relationships: must be an array of { name, query }');
    } else {
      m.relationships.forEach((r, i) => {
        if (!isPlainObject(r) || typeof r.name !== 'string' || typeof r.query !== 'string') {
          problems.push(`relationships[${i}]: must be { name: string, query: string }`);
        }
      });
    }
  }
  problems.push(...checkDeclaredQueries(m.queries));
  if (m.target !== undefined) {
    problems.push(...checkCopyTarget(m.target, typeof m.container === 'string' ? m.container : undefined));
    if (typeof m.up !== 'function') problems.push('up: copy mode (target) needs up() to derive the new partition key');
  }
  return problems;
}

/** Checks `queries`: one line per problem. */
export function checkDeclaredQueries(queries: unknown): string[] {
  if (queries === undefined) return [];
  if (!Array.isArray(queries)) return ['queries: must be an array of { name, query, parameters?, maxRuGrowth? }'];
  const problems: string[] = [];
  const seen = new Set<string>();
  queries.forEach((q: unknown, i) => {
    const at = `queries[${i}]`;
    if (!isPlainObject(q)) {
      problems.push(`${at}: must be { name, query, parameters?, maxRuGrowth? }`);
      return;
    }
    if (typeof q.name !== 'string' || q.name.trim() === '') problems.push(`${at}.name: missing (a non-empty string)`);
    else if (seen.has(q.name)) problems.push(`${at}.name: "${q.name}" is used by another query of this module`);
    else seen.add(q.name);
    if (typeof q.query !== 'string' || q.query.trim() === '') problems.push(`${at}.query: missing (Cosmos SQL)`);
    else if (!/^\s*SELECT\b/i.test(q.query)) problems.push(`${at}.query: must be a SELECT query`);
    if (q.parameters !== undefined) {
      if (!Array.isArray(q.parameters)) problems.push(`${at}.parameters: must be an array of { name: "@x", value }`);
      else {
        q.parameters.forEach((p: unknown, j) => {
          if (!isPlainObject(p) || typeof p.name !== 'string' || !p.name.startsWith('@') || !('value' in p)) {
            problems.push(`${at}.parameters[${j}]: must be { name: "@x", value }`);
          } else if (typeof q.query === 'string' && !q.query.includes(p.name)) {
            problems.push(`${at}.parameters[${j}]: ${p.name} does not appear in the query`);
          }
        });
      }
    }
    if (
      q.maxRuGrowth !== undefined &&
      (typeof q.maxRuGrowth !== 'number' || !Number.isFinite(q.maxRuGrowth) || q.maxRuGrowth < 1)
    ) {
      problems.push(`${at}.maxRuGrowth: must be a number of at least 1 (got ${JSON.stringify(q.maxRuGrowth)})`);
    }
  });
  return problems;
}

class Registry implements MigrationRegistry {
  constructor(
    readonly dir: string,
    private readonly byId: Map<string, LoadedMigration>
  ) {}

  list(): LoadedMigration[] {
    return [...this.byId.values()].sort((a, b) => a.definition.id.localeCompare(b.definition.id));
  }

  get(id: string): LoadedMigration {
    const found = this.byId.get(id);
    if (!found) {
      const known = [...this.byId.keys()].sort().join(', ') || 'none';
      throw ApplicationFailure.nonRetryable(
        `unknown migration "${id}" (migrations in ${this.dir}: ${known})`,
        MIGRATION_INVALID
      );
    }
    return found;
  }
}

/**
 * Loads every migration module in `dir`. Throws a non-retryable `MigrationInvalid` ApplicationFailure listing every
 * problem, one line each ("<file>: <field>: <what is wrong>"); its details hold the same lines.
 */
/**
 * The line of a load error that says what is wrong: esbuild (tsx) opens with "Transform failed with 1 error:" and
 * names the file, line, column and the error on the next line.
 */
function loadError(err: unknown): string {
  const lines = String((err as Error)?.message ?? err)
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return (/^(Transform|Build) failed with \d+ errors?:?$/.test(lines[0] ?? '') ? lines[1] : lines[0]) ?? String(err);
}

export async function loadRegistry(dir: string): Promise<MigrationRegistry> {
  const absolute = path.resolve(dir);
  if (!fs.existsSync(absolute) || !fs.statSync(absolute).isDirectory()) {
    throw ApplicationFailure.nonRetryable(`migrations folder ${absolute} does not exist`, MIGRATION_INVALID);
  }
  const files = fs
    .readdirSync(absolute)
    .filter(isMigrationFile)
    .sort()
    .map((name) => path.join(absolute, name));
  const problems: string[] = [];
  const byId = new Map<string, LoadedMigration>();
  for (const file of files) {
    const shown = path.relative(process.cwd(), file) || file;
    let exported: unknown;
    try {
      exported = defaultExport(await importModule(file));
    } catch (err) {
      problems.push(`${shown}: cannot be loaded: ${loadError(err)}`);
      continue;
    }
    const found = checkMigration(exported);
    problems.push(...found.map((p) => `${shown}: ${p}`));
    if (found.length > 0) continue;
    const definition = exported as Migration;
    const previous = byId.get(definition.id);
    if (previous) {
      problems.push(
        `${shown}: id: "${definition.id}" is already used by ${path.relative(process.cwd(), previous.file) || previous.file}`
      );
      continue;
    }
    const checksum = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    byId.set(definition.id, { definition, file, checksum });
  }
  if (problems.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `${problems.length} problem(s) in the migrations in ${absolute}:\n${problems.join('\n')}`,
      MIGRATION_INVALID,
      ...problems
    );
  }
  return new Registry(absolute, byId);
}
