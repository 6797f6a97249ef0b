/**
 * countVersions settled on one version's count (`settledOn`, activities/engine.ts): what a rollback concludes on is
 * the documents left at the new version, and an application that moves a document to it leaves the total unchanged.
 * Settled on the total, a first count from a replica lagging behind that write and the next one agree (the same total),
 * and the lagging version counts were kept. On the emulator with Session consistency and a replica lag
 * (local/cosmos/session-consistency.ts), the application writing through a client of its own (its own session tokens).
 */
import { createEngineActivities } from '../../activities/engine';
import { freshContainer, seed, startEngineStack, type EngineStack } from './support';

let engine: EngineStack;

beforeAll(async () => {
  engine = await startEngineStack();
}, 120_000);

afterEach(() => {
  engine.stack.cosmos.control.setSessionLag(0);
});

afterAll(async () => {
  await engine?.close();
});

test('a document the application moved to the new version within the lag is counted at it, though the total never changed', async () => {
  const container = await freshContainer(engine.deps);
  await seed(
    container,
    Array.from({ length: 10 }, (_, i) => ({ id: `d-${i}`, tenantId: `t${i % 3}`, v: 1 }))
  );
  // Shorter than the settle (activities/cosmos/settled-count.ts, 1 s), as the settle assumes.
  engine.stack.cosmos.control.setSessionLag(800);
  const application = engine.stack.cosmosClient().database(container.database.id).container(container.id);
  await application.item('d-4', 't1').replace({ id: 'd-4', tenantId: 't1', v: 2 });
  const counted = await createEngineActivities(engine.deps).countVersions({
    database: container.database.id,
    container: container.id,
    versionField: 'v',
    settled: true,
    settledOn: '2',
  });
  expect(counted).toEqual({ countsByVersion: { '1': 9, '2': 1 }, total: 10 });
});
