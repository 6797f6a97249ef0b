/**
 * Container steps through the local ARM imitation with the real @azure/arm-cosmosdb client: create a container,
 * replace an indexing policy, set throughput; a re-run changes nothing; down undoes from the history record.
 * Uses the repo's example migrations 002 and 003.
 */
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MIGRATION_INVALID, type ContainerStepsResult, type HistoryRecord } from '../../common/activities';
import type { Migration } from '../../common/migration';
import { createEngineActivities, readHistory, type EngineActivities } from '../../activities/engine';
import { createContainer } from '../../activities/arm/ensure-container';
import { ErrorType } from '../../common/errors';
import { sameIndexingPolicy } from '../../activities/arm/container-steps';
import { loadRegistry } from '../../activities/registry';
import { seedDemoCustomers } from '../../local/demo-seed';
import { readAll, registryOf, startEngineStack, type EngineStack } from './support';

let engine: EngineStack;
let activities: EngineActivities;
let examples: Migration[];

beforeAll(async () => {
  engine = await startEngineStack();
  activities = createEngineActivities(engine.deps);
  examples = (await loadRegistry(path.resolve(__dirname, '../../migrations'))).list().map((m) => m.definition);
}, 120_000);

afterAll(async () => {
  await engine?.close();
});

function use(...extra: Migration[]): void {
  engine.deps.registry = registryOf([...examples, ...extra]);
}

async function record(
  migration: string,
  container: string,
  result: ContainerStepsResult,
  direction: 'up' | 'down' = 'up'
): Promise<void> {
  const now = new Date().toISOString();
  const entry: HistoryRecord = {
    database: 'demo',
    container,
    migrationId: migration,
    checksum: 'c',
    direction,
    status: 'completed',
    startedAt: now,
    finishedAt: now,
    counters: { scanned: 0, migrated: 0, skipped: 0, failed: 0, conflicts: 0, ruConsumed: 0 },
    workflowId: `wf-${migration}`,
    runId: `run-${direction}-${Date.now()}`,
    previous: result.previous,
    stepsApplied: result.applied,
  };
  await activities.recordHistory(entry);
}

test('002: creates the orders container through ARM, a re-run changes nothing, down deletes it', async () => {
  use();
  const input = {
    database: 'demo',
    container: 'orders',
    migration: '002-create-orders-container',
    direction: 'up' as const,
  };
  const first = await activities.applyContainerSteps(input);
  expect(first).toEqual({ applied: ['created container orders (partition key /tenantId, 400 RU/s)'], previous: null });
  const exported = await activities.exportContainer({ database: 'demo', container: 'orders' });
  expect(exported?.resource.partitionKey).toMatchObject({ paths: ['/tenantId'] });
  expect(exported?.throughput).toBe(400);
  // The data plane sees it too, partitioned as asked.
  const { resource } = await engine.deps.cosmos.database('demo').container('orders').read();
  expect(resource?.partitionKey?.paths).toEqual(['/tenantId']);

  const again = await activities.applyContainerSteps(input);
  expect(again.applied).toEqual([]);
  expect(again.previous?.throughput).toBe(400);

  await record('002-create-orders-container', 'orders', first);
  await record('002-create-orders-container', 'orders', again); // a re-run records no steps; down must look past it
  const history = await readHistory(engine.deps, 'demo', '002-create-orders-container');
  expect(history).toHaveLength(2);
  expect(history.every((h) => h.migrationId === '002-create-orders-container' && !('_etag' in h))).toBe(true);

  // The application wrote into the container the migration created: down keeps it, says how many, deletes nothing.
  const orders = engine.deps.cosmos.database('demo').container('orders');
  await orders.items.create({ id: 'o-1', tenantId: 't1', total: 12 });
  const refused = await activities.applyContainerSteps({ ...input, direction: 'down' }).catch((e: unknown) => e);
  expect(refused).toMatchObject({ type: ErrorType.ContainerInUse, nonRetryable: true });
  expect((refused as Error).message).toMatch(/holds 1 document\(s\) now: not deleted/);
  expect((await orders.item('o-1', 't1').read()).resource).toMatchObject({ id: 'o-1', total: 12 });
  // Once it is empty again, down deletes it.
  await orders.item('o-1', 't1').delete();
  const down = await activities.applyContainerSteps({ ...input, direction: 'down' });
  expect(down.applied).toEqual(['deleted container orders (created by 002-create-orders-container)']);
  expect(await activities.exportContainer({ database: 'demo', container: 'orders' })).toBeNull();
  expect((await activities.applyContainerSteps({ ...input, direction: 'down' })).applied).toEqual([]);
});

test('003 + throughput: indexing policy replaced and throughput set (documents intact); re-run no-op; down restores both', async () => {
  const ref = { database: 'demo', container: 'customers' };
  await createContainer(engine.deps, ref, { partitionKey: '/tenantId', throughput: 400 });
  const customers = engine.deps.cosmos.database('demo').container('customers');
  await seedDemoCustomers(customers, 120);
  const docsBefore = await readAll(customers);
  const scale: Migration = {
    id: 'scale-customers',
    description: 'more RU/s',
    database: 'demo',
    container: { name: 'customers', throughput: 1000 },
  };
  use(scale);
  const before = await activities.exportContainer(ref);

  const index = await activities.applyContainerSteps({
    ...ref,
    migration: '003-index-customers-by-last-name',
    direction: 'up',
  });
  expect(index.applied).toEqual(['indexing policy replaced']);
  expect(index.previous?.resource.indexingPolicy).toEqual(before?.resource.indexingPolicy);
  const indexed = await activities.exportContainer(ref);
  const wanted = examples.find((m) => m.id === '003-index-customers-by-last-name')!.container as {
    indexingPolicy: object;
  };
  expect(sameIndexingPolicy(indexed?.resource.indexingPolicy as object, wanted.indexingPolicy)).toBe(true);
  expect(indexed?.resource.partitionKey).toEqual(before?.resource.partitionKey);
  // The emulator rebuilds the index for a while after the change (local/cosmos/index-transformation.ts): waited for.
  const progress = await activities.waitForIndexTransformation(ref);
  expect(progress.progress).toBe(100);

  const scaled = await activities.applyContainerSteps({ ...ref, migration: 'scale-customers', direction: 'up' });
  expect(scaled.applied).toEqual(['throughput 400 → 1000 RU/s']);
  expect((await activities.exportContainer(ref))?.throughput).toBe(1000);

  // Re-runs: nothing to do.
  expect(
    (await activities.applyContainerSteps({ ...ref, migration: '003-index-customers-by-last-name', direction: 'up' }))
      .applied
  ).toEqual([]);
  expect(
    (await activities.applyContainerSteps({ ...ref, migration: 'scale-customers', direction: 'up' })).applied
  ).toEqual([]);

  // The documents went through the policy change untouched.
  const docsAfter = await readAll(customers);
  expect(docsAfter.size).toBe(120);
  for (const [id, doc] of docsBefore) expect(docsAfter.get(id)).toEqual(doc);

  await record('003-index-customers-by-last-name', 'customers', index);
  await record('scale-customers', 'customers', scaled);
  const unscaled = await activities.applyContainerSteps({ ...ref, migration: 'scale-customers', direction: 'down' });
  expect(unscaled.applied).toEqual(['throughput 1000 → 400 RU/s (restored)']);
  const unindexed = await activities.applyContainerSteps({
    ...ref,
    migration: '003-index-customers-by-last-name',
    direction: 'down',
  });
  expect(unindexed.applied).toEqual(['indexing policy restored']);
  const restored = await activities.exportContainer(ref);
  expect(restored?.throughput).toBe(400);
  expect(
    sameIndexingPolicy(restored?.resource.indexingPolicy as object, before?.resource.indexingPolicy as object)
  ).toBe(true);
  expect((await readAll(customers)).size).toBe(120);
});

test('a throughput step on an autoscale container: migrated to manual for the run, and down gives autoscale back', async () => {
  const ref = { database: 'demo', container: 'autoscaled' };
  await engine.deps.arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
    engine.deps.account.resourceGroup,
    engine.deps.account.name,
    ref.database,
    ref.container,
    {
      resource: { id: ref.container, partitionKey: { paths: ['/tenantId'], kind: 'Hash' } },
      options: { autoscaleSettings: { maxThroughput: 4000 } },
    },
    { updateIntervalInMs: 10 }
  );
  const scale: Migration = {
    id: 'scale-autoscaled',
    description: 'manual RU/s for the run',
    database: 'demo',
    container: { name: ref.container, throughput: 1000 },
  };
  use(scale);
  const up = await activities.applyContainerSteps({ ...ref, migration: scale.id, direction: 'up' });
  expect(up.applied).toEqual(['throughput autoscale up to 4000 RU/s → 1000 RU/s']);
  expect(up.previous?.autoscaleMaxThroughput).toBe(4000);
  const manual = await activities.exportContainer(ref);
  expect(manual?.autoscaleMaxThroughput).toBeUndefined();
  expect(manual?.throughput).toBe(1000);

  await record(scale.id, ref.container, up);
  const down = await activities.applyContainerSteps({ ...ref, migration: scale.id, direction: 'down' });
  expect(down.applied).toEqual(['throughput 1000 → autoscale up to 4000 RU/s (restored)']);
  expect((await activities.exportContainer(ref))?.autoscaleMaxThroughput).toBe(4000);
});

test('down without a completed up on record, and up on a missing container without create: clear errors', async () => {
  const index: Migration = {
    id: 'index-missing',
    description: 'index a container that does not exist',
    database: 'demo',
    container: { name: 'nowhere', indexingPolicy: { indexingMode: 'consistent' } },
  };
  use(index);
  const up = await activities
    .applyContainerSteps({ database: 'demo', container: 'nowhere', migration: 'index-missing', direction: 'up' })
    .catch((e: unknown) => e);
  expect(up).toBeInstanceOf(ApplicationFailure);
  expect((up as ApplicationFailure).type).toBe(MIGRATION_INVALID);
  expect((up as Error).message).toBe(
    'container demo/nowhere does not exist and migration index-missing has no container.create step'
  );

  const down = await activities
    .applyContainerSteps({ database: 'demo', container: 'nowhere', migration: 'index-missing', direction: 'down' })
    .catch((e: unknown) => e);
  expect((down as Error).message).toBe(
    'cannot undo the container steps of index-missing on demo/nowhere: no completed up of it recorded what the container was before'
  );
});

test('a policy without includedPaths is the same as the one Cosmos stores for it (includedPaths /*, /"_etag"/? excluded)', () => {
  const wanted = { excludedPaths: [{ path: '/notes/*' }] };
  const stored = {
    indexingMode: 'consistent',
    automatic: true,
    includedPaths: [{ path: '/*' }],
    excludedPaths: [{ path: '/notes/*' }, { path: '/"_etag"/?' }],
  };
  expect(sameIndexingPolicy(stored, wanted)).toBe(true);
  expect(sameIndexingPolicy(stored, { ...wanted, includedPaths: [{ path: '/tenant/?' }] })).toBe(false);
});
