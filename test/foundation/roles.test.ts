/**
 * docs/roles/ holds what activities/arm/role-definitions.ts generates from the one list of actions (run
 * `npm run roles` after changing activities/arm/actions.ts), and each role holds its set's actions and no more.
 */
import fs from 'node:fs';
import path from 'node:path';
import { actionsFor } from '../../activities/arm/actions';
import { roleFiles } from '../../activities/arm/role-definitions';

const DIR = path.resolve(__dirname, '..', '..', 'docs', 'roles');

test('docs/roles is what the generator writes (npm run roles)', () => {
  const files = roleFiles();
  expect(fs.readdirSync(DIR).sort()).toEqual(Object.keys(files).sort());
  for (const [name, content] of Object.entries(files))
    expect(fs.readFileSync(path.join(DIR, name), 'utf8')).toBe(content);
});

test('each role grants its set: migration ⊂ with restore ⊂ with drill, the destructive actions only where needed', () => {
  const read = (set: string) =>
    (JSON.parse(fs.readFileSync(path.join(DIR, `cosmos-runbook-${set}.json`), 'utf8')) as { Actions: string[] })
      .Actions;
  const migration = read('migration');
  const restore = read('with-restore');
  const drill = read('with-drill');
  expect(migration).toEqual(actionsFor('migration'));
  expect(restore).toEqual(expect.arrayContaining(migration));
  expect(drill).toEqual(expect.arrayContaining(restore));
  const containerDelete = 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/delete';
  const accountDelete = 'Microsoft.DocumentDB/databaseAccounts/delete';
  expect(migration).not.toContain(containerDelete);
  expect(restore).toContain(containerDelete);
  expect(restore).not.toContain(accountDelete);
  expect(drill).toContain(accountDelete);
  // Bicep carries the same actions as the JSON.
  for (const set of ['migration', 'with-restore', 'with-drill']) {
    const bicep = fs.readFileSync(path.join(DIR, `cosmos-runbook-${set}.bicep`), 'utf8');
    const quoted = [...bicep.matchAll(/^ {10}'(Microsoft\.[^']+)'$/gm)].map((m) => m[1]);
    expect(quoted).toEqual(read(set));
  }
});
