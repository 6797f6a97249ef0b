/**
 * The migration registry: the repo's example migrations load; every problem in a folder is reported at once, one
 * line each naming the file and the field; .ts, .mjs, .cjs and .js modules outside the repo load in a real process.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { MIGRATION_INVALID } from '../../common/activities';
import { loadRegistry } from '../../activities/registry';
import { describeMigration } from '../../activities/engine';
import type { ActivityDeps } from '../../activities/deps';

const repoRoot = path.resolve(__dirname, '../..');

function tempDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-test-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

test("the repo's example migrations load, checksummed by their source", async () => {
  const registry = await loadRegistry(path.join(repoRoot, 'migrations'));
  const ids = registry.list().map((m) => m.definition.id);
  expect(ids).toEqual(['001-split-customer-name', '002-create-orders-container', '003-index-customers-by-last-name']);
  const first = registry.get('001-split-customer-name');
  const source = fs.readFileSync(first.file);
  expect(first.checksum).toBe(crypto.createHash('sha256').update(source).digest('hex'));
  expect(() => registry.get('nope')).toThrow(/unknown migration "nope" \(migrations in .*: 001-split-customer-name, /);
});

test('every problem in a migrations folder is reported, one line each naming the file and the field', async () => {
  const ok = (id: string, extra = '') =>
    `module.exports = { id: '${id}', description: 'd', container: 'c', fromVersion: 1, toVersion: 2, up: (d) => d${extra} };`;
  const dir = tempDir({
    'a-no-id.js': `module.exports = { description: 'd', container: 'c', fromVersion: 1, toVersion: 2, up: (d) => d };`,
    'b-dup.js': ok('dup'),
    'c-dup.js': ok('dup'),
    'd-bare.js': `module.exports = { id: 'bare', up: (d) => d, fromVersion: 1, toVersion: 2 };`,
    'e-versions.js': `module.exports = { id: 'e', description: 'd', container: 'c', up: (d) => d };`,
    'f-same.js': `module.exports = { id: 'f', description: 'd', container: 'c', fromVersion: 3, toVersion: 3, up: (d) => d };`,
    'g-notfn.js': `module.exports = { id: 'g', description: 'd', container: 'c', fromVersion: 1, toVersion: 2, up: 'x', down: 4 };`,
    'h-steps.js': `module.exports = { id: 'h', description: 'd', container: { name: 'o', create: { partitionKey: 'tenantId', throughput: 300 }, indexingPolicy: 'all' } };`,
    'i-nothing.js': `module.exports = { id: 'i', description: 'd', container: 'c' };`,
    'j-broken.js': `module.exports = {`,
    'k-good.ts': `export default { id: 'k', description: 'fine', container: { name: 'o', create: { partitionKey: '/tenantId', throughput: 400 } } };`,
    '_helper.js': `throw new Error('helpers are not migrations');`,
    'l.test.js': `throw new Error('tests are not migrations');`,
    'types.d.ts': `export declare const x: number;`,
    'README.md': '# not a module',
  });
  const err = await loadRegistry(dir).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  const failure = err as ApplicationFailure;
  expect(failure.type).toBe(MIGRATION_INVALID);
  expect(failure.nonRetryable).toBe(true);
  const rel = (f: string) => path.relative(process.cwd(), path.join(dir, f));
  const lines = failure.message.split('\n');
  expect(lines[0]).toBe(`14 problem(s) in the migrations in ${dir}:`);
  expect(lines.slice(1)).toEqual([
    `${rel('a-no-id.js')}: id: missing (a non-empty string)`,
    `${rel('c-dup.js')}: id: "dup" is already used by ${rel('b-dup.js')}`,
    `${rel('d-bare.js')}: description: missing (say what the migration does)`,
    `${rel('d-bare.js')}: container: missing (the target container name, or container steps with \`name\`)`,
    `${rel('e-versions.js')}: fromVersion: missing (needed by up/down; a number or string)`,
    `${rel('e-versions.js')}: toVersion: missing (needed by up/down; a number or string)`,
    `${rel('f-same.js')}: toVersion: equals fromVersion (3); a migration must change the version`,
    `${rel('g-notfn.js')}: up: must be a function`,
    `${rel('g-notfn.js')}: down: must be a function`,
    `${rel('h-steps.js')}: container.create.partitionKey: "tenantId" must be a path starting with "/"`,
    `${rel('h-steps.js')}: container.create.throughput: must be an integer of at least 400 RU/s (got 300)`,
    `${rel('h-steps.js')}: container.indexingPolicy: must be an indexing policy object`,
    `${rel('i-nothing.js')}: up: the migration does nothing (give up/down to transform documents, or container steps)`,
    expect.stringMatching(new RegExp(`^${rel('j-broken.js').replace(/[.]/g, '\\.')}: cannot be loaded: `)),
  ]);
  expect(failure.details).toEqual(lines.slice(1));
});

test('loadMigration: a missing down() is reported only when direction down is asked; a missing database is named', async () => {
  const dir = tempDir({
    'one-way.js': `module.exports = { id: 'one-way', description: 'd', container: 'c', fromVersion: 1, toVersion: 2, up: (d) => d };`,
  });
  const registry = await loadRegistry(dir);
  const deps = { registry } as ActivityDeps;
  const info = describeMigration(deps, { migration: 'one-way', direction: 'up', database: 'shop' });
  expect(info).toMatchObject({
    id: 'one-way',
    database: 'shop',
    container: 'c',
    versionField: 'schemaVersion',
    hasUp: true,
    hasDown: false,
  });
  expect(info.checksum).toMatch(/^[0-9a-f]{64}$/);

  const down = (() => {
    try {
      describeMigration(deps, { migration: 'one-way', direction: 'down', database: 'shop' });
    } catch (e) {
      return e as ApplicationFailure;
    }
  })();
  expect(down?.type).toBe(MIGRATION_INVALID);
  expect(down?.nonRetryable).toBe(true);
  expect(down?.message).toBe('migration one-way has no down(); it cannot be reversed by a down migration');
  expect(() => describeMigration(deps, { migration: 'one-way', direction: 'up' })).toThrow(
    'migration one-way names no database: give "database" in the workflow input or the module'
  );
});

test('loadMigration gives a copy-mode module its target (the workflow runs the copy phases) and refuses it down: a copy is undone by its rollback', async () => {
  const dir = tempDir({
    'copy.js': `module.exports = { id: 'copy', description: 'd', container: 'c', database: 'shop', fromVersion: 1, toVersion: 2, up: (d) => ({ ...d, tenant: 't' }), down: (d) => d, target: { container: 'c2', partitionKey: '/tenant', throughput: 400 } };`,
  });
  const deps = { registry: await loadRegistry(dir) } as ActivityDeps;
  expect(describeMigration(deps, { migration: 'copy', direction: 'up' }).target).toEqual({
    container: 'c2',
    partitionKey: '/tenant',
    throughput: 400,
  });
  const refused = (() => {
    try {
      describeMigration(deps, { migration: 'copy', direction: 'down' });
    } catch (e) {
      return e as ApplicationFailure;
    }
  })();
  expect(refused?.type).toBe(MIGRATION_INVALID);
  expect(refused?.nonRetryable).toBe(true);
  expect(refused?.message).toBe(
    'migration copy declares target c2 (copy mode, docs/migrations.md "Copy mode"): it runs up only; a copy is undone by its rollback'
  );
});

test('.ts, .mjs, .cjs and .js modules outside the repo load in a real worker process (tsx)', async () => {
  const dir = tempDir({
    'a.ts': `interface Doc { id: string; n?: number }\nexport default { id: 'from-ts', description: 'ts', container: 'c', fromVersion: 1, toVersion: 2, up: (d: Doc) => ({ ...d, n: 1 }) };`,
    'b.mjs': `export default { id: 'from-mjs', description: 'mjs', container: 'c', fromVersion: 1, toVersion: 2, up: (d) => d };`,
    'c.cjs': `module.exports = { id: 'from-cjs', description: 'cjs', container: 'c', fromVersion: 1, toVersion: 2, up: (d) => d };`,
    'd.js': `exports.default = { id: 'from-js', description: 'js', container: { name: 'o', throughput: 400 } };`,
  });
  const script = [
    `const { loadRegistry } = require(${JSON.stringify(path.join(repoRoot, 'activities/registry.ts'))});`,
    `loadRegistry(${JSON.stringify(dir)}).then(async (r) => {`,
    `  const up = r.get('from-ts').definition.up;`,
    `  console.log(JSON.stringify({ ids: r.list().map((m) => m.definition.id), ts: await up({ id: 'x' }) }));`,
    `}, (e) => { console.error(e.message); process.exit(1); });`,
  ].join('\n');
  const { stdout } = await promisify(execFile)(path.join(repoRoot, 'node_modules/.bin/tsx'), ['-e', script], {
    cwd: os.tmpdir(),
  });
  expect(JSON.parse(stdout.trim())).toEqual({
    ids: ['from-cjs', 'from-js', 'from-mjs', 'from-ts'],
    ts: { id: 'x', n: 1 },
  });
}, 60_000);
