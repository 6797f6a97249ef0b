/** The schema record: field paths a transform adds, removes or retypes, from the plan's sample (names, never values). */
import type { Migration, MigrationDocument } from '../../common/migration';
import { schemaChanges } from '../../common/schema-diff';
import { createEngineActivities } from '../../activities/engine';
import { freshContainer, seed, startEngineStack, type EngineStack } from './support';

jest.setTimeout(120_000);

let engine: EngineStack;

beforeAll(async () => {
  engine = await startEngineStack();
});

afterAll(async () => engine?.close());

test('schemaChanges: top-level and nested dot paths, arrays of objects, type changes; system fields ignored', () => {
  const before = [
    { id: '1', name: 'Ada L', address: { city: 'X', zip: 123 }, tags: [{ k: 'a' }], _etag: '"1"', _ts: 1 },
    { id: '2', name: 'Bob M', address: { city: 'Y', zip: 456 }, tags: [], _etag: '"2"', _ts: 1 },
  ];
  const after = [
    { id: '1', first: 'Ada', address: { city: 'X', zip: '123', geo: { lat: 1 } }, tags: [{ k: 'a', v: 1 }] },
    { id: '2', first: 'Bob', address: { city: 'Y', zip: '456', geo: { lat: 2 } }, tags: [] },
  ];
  expect(schemaChanges(before, after)).toEqual({
    added: ['address.geo', 'address.geo.lat', 'first', 'tags[].v'],
    removed: ['name'],
    changed: ['address.zip'],
  });
  expect(schemaChanges(before, before)).toEqual({ added: [], removed: [], changed: [] });
  // values never appear, only names
  expect(JSON.stringify(schemaChanges(before, after))).not.toMatch(/Ada|123|Bob/);
});

test('planMigration returns the schema record of its sample', async () => {
  const container = await freshContainer(engine.deps, 'schema');
  const migration: Migration = {
    id: 'split',
    description: 'split name, number to string',
    database: 'schema',
    container: container.id,
    fromVersion: 1,
    toVersion: 2,
    up(doc: MigrationDocument & { name?: string; score?: number }) {
      const { name, ...rest } = doc;
      const [first, last] = String(name).split(' ');
      return { ...rest, profile: { first, last }, score: String(doc.score) };
    },
  };
  engine.use(migration);
  await seed(
    container,
    Array.from({ length: 30 }, (_, i) => ({ id: `d${i}`, tenantId: `t${i % 3}`, name: `A${i} B${i}`, score: i }))
  );
  const plan = await createEngineActivities(engine.deps).planMigration({
    database: 'schema',
    container: container.id,
    migration: 'split',
    direction: 'up',
    sampleSize: 10,
  });
  expect(plan.sample.wouldChange).toBe(10);
  expect(plan.schema).toEqual({
    added: ['profile', 'profile.first', 'profile.last', 'schemaVersion'],
    removed: ['name'],
    changed: ['score'],
  });
});
