/**
 * planMigration's down(up(doc)) round trip on the local stack: which sample documents do not come back, by id and
 * field name, never values.
 */
import type { Migration, MigrationDocument } from '../../common/migration';
import { createEngineActivities } from '../../activities/engine';
import { freshContainer, seed, startEngineStack, type EngineStack, customerDocs } from './support';

let engine: EngineStack;

beforeAll(async () => {
  engine = await startEngineStack();
}, 120_000);

afterAll(async () => {
  await engine?.close();
});

type Doc = MigrationDocument & { tenantId: string; name?: string; firstName?: string; lastName?: string };

function splitName(extra: Partial<Migration> = {}): Migration {
  return {
    id: 'split-name',
    description: 'split name',
    database: 'engine',
    container: 'customers',
    fromVersion: 1,
    toVersion: 2,
    up(doc: Doc) {
      if (typeof doc.name !== 'string') return undefined;
      const [first, ...rest] = doc.name.split(' ');
      const next: Doc = { ...doc, firstName: first, lastName: rest.join(' ') };
      delete next.name;
      return next;
    },
    down(doc: Doc) {
      const next: Doc = { ...doc, name: [doc.firstName, doc.lastName].filter(Boolean).join(' ') };
      delete next.firstName;
      delete next.lastName;
      delete next.schemaVersion;
      return next;
    },
    ...extra,
  };
}

const customers = (n: number, from?: number, extra?: (i: number) => Record<string, unknown>) =>
  customerDocs<Doc>(n, from, extra);

test('planMigration checks down(up(doc)) on its sample and lists the ids and field names that do not come back', async () => {
  const container = await freshContainer(engine.deps);
  await seed(container, [
    ...customers(30),
    ...customers(5, 30, (i) => ({ name: `Solo${i}` })), // one word: down() gives "Solo30", fine
    ...customers(3, 35, (i) => ({ name: ` Lead${i}` })), // a leading space: split/join loses it
  ]);
  const plan = () =>
    createEngineActivities(engine.deps).planMigration({
      database: container.database.id,
      container: container.id,
      migration: 'split-name',
      direction: 'up',
      sampleSize: 100,
    });

  engine.use(splitName());
  const good = await plan();
  expect(good.roundTrip!.checked).toBe(38);
  expect(good.roundTrip!.mismatched).toBe(3);
  expect(good.roundTrip!.mismatches.map((m) => m.id).sort()).toEqual(['cust-35', 'cust-36', 'cust-37']);
  for (const m of good.roundTrip!.mismatches) expect(m.fields).toEqual(['name']);

  // A down() that forgets a field and keeps the version: every document listed, the version field not blamed.
  engine.use(
    splitName({
      down(doc: Doc) {
        const next: Doc = { ...doc, name: `${doc.firstName} ${doc.lastName}` };
        delete next.firstName;
        delete next.lastName;
        delete next.email;
        return next;
      },
    })
  );
  const lossy = await plan();
  expect(lossy.roundTrip!.mismatched).toBe(38);
  expect(lossy.roundTrip!.mismatches).toHaveLength(20);
  expect(lossy.roundTrip!.mismatches.find((m) => m.id === 'cust-0')!.fields).toEqual(['email']);
  expect(JSON.stringify(lossy.roundTrip)).not.toMatch(/example\.com|First/);

  // A down() that throws: listed with the engine's message, no fields.
  engine.use(
    splitName({
      down(doc: Doc) {
        if (doc.id === 'cust-4') throw new Error('cannot join');
        return { ...doc, name: `${doc.firstName} ${doc.lastName}` };
      },
    })
  );
  const throwing = await plan();
  expect(throwing.roundTrip!.mismatches.find((m) => m.id === 'cust-4')).toEqual({
    id: 'cust-4',
    fields: [],
    error: 'down() threw: cannot join',
  });

  // No down(): no round trip.
  engine.use(splitName({ down: undefined }));
  expect((await plan()).roundTrip).toBeUndefined();
});
