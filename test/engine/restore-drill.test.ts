/**
 * The restore drill's comparison, clean-up and record on the local stack. The copy at T is made here from the
 * emulator's backup log (a stand-in: Azure cannot restore a live container in-account under another name; see
 * activities/cosmos/drill.ts), so what is tested is what compareDrill concludes from a copy, right or wrong.
 */
import type { Container } from '@azure/cosmos';
import type { DrillRecord } from '../../common/activities';
import { createEngineActivities, readHistory, type EngineActivities } from '../../activities/engine';
import { restorePoint } from '../../activities/cosmos/snapshot';
import { findRestoreSource, getAccount } from '../../activities/arm/backup';
import { freshContainer, seed, startEngineStack, type EngineStack } from './support';

jest.setTimeout(120_000);

let engine: EngineStack;
let activities: EngineActivities;
let live: Container;
let t: string;

const SYSTEM = ['_rid', '_self', '_etag', '_attachments', '_ts', '_lsn'];

/** The container as it was at `at`, written under `name` (what a side-by-side restore would give). */
async function copyAt(name: string, at: string): Promise<Container> {
  const state = engine.stack.cosmos.backup.containerAt('drill', live.id, new Date(at));
  const { container } = await live.database.containers.createIfNotExists({
    id: name,
    partitionKey: { paths: ['/tenantId'] },
  });
  const docs = state.documents.map((d) => Object.fromEntries(Object.entries(d).filter(([k]) => !SYSTEM.includes(k))));
  await seed(container, docs);
  return container;
}

beforeAll(async () => {
  engine = await startEngineStack();
  activities = createEngineActivities(engine.deps);
  live = await freshContainer(engine.deps, 'drill');
  await seed(
    live,
    Array.from({ length: 50 }, (_, i) => ({ id: `d${i}`, tenantId: `t${i % 5}`, n: i }))
  );
  t = (await restorePoint(engine.deps.cosmos)).toISOString();
  // after T: 5 changed, 5 created, 3 deleted
  await seed(
    live,
    Array.from({ length: 5 }, (_, i) => ({ id: `d${i}`, tenantId: `t${i % 5}`, n: -1 }))
  );
  await seed(
    live,
    Array.from({ length: 5 }, (_, i) => ({ id: `new${i}`, tenantId: 't0', n: 100 + i }))
  );
  for (const i of [10, 11, 12]) await live.item(`d${i}`, `t${i % 5}`).delete();
});

afterAll(async () => engine?.close());

const input = (copy: string, sampleSize = 20) => ({ database: 'drill', container: live.id, copy, at: t, sampleSize });

test('a faithful copy: the count covers the documents unchanged since T, and the sample matches', async () => {
  await copyAt(`${live.id}-drill-ok`, t);
  const result = await activities.compareDrill(input(`${live.id}-drill-ok`));
  expect(result).toEqual({ count: { copy: 50, liveAtT: 42 }, sampleChecked: 20, mismatches: [] });
});

test('a wrong copy: a missing document, a changed field and a short count are named (ids and fields only)', async () => {
  const copy = await copyAt(`${live.id}-drill-bad`, t);
  await copy.item('d20', 't0').delete();
  await copy.items.upsert({ id: 'd21', tenantId: 't1', n: 999 });
  const result = await activities.compareDrill(input(`${live.id}-drill-bad`, 45));
  expect(result.sampleChecked).toBe(42);
  expect(result.mismatches.sort()).toEqual(['d20 ("t0"): missing from the copy', 'd21 ("t1"): n differ']);
  expect(JSON.stringify(result)).not.toContain('999');

  await live.database.containers.createIfNotExists({
    id: `${live.id}-drill-empty`,
    partitionKey: { paths: ['/tenantId'] },
  });
  const empty = await activities.compareDrill(input(`${live.id}-drill-empty`, 3));
  expect(empty.count).toEqual({ copy: 0, liveAtT: 42 });
  expect(empty.mismatches[0]).toMatch(/^the copy holds 0 documents; the live container has 42 unchanged since before /);
  expect(empty.mismatches).toHaveLength(4);

  const none = await activities.compareDrill(input(`${live.id}-drill-none`));
  expect(none.mismatches).toEqual([`the copy drill/${live.id}-drill-none does not exist`]);
});

test('deleteDrillCopy deletes the copy through ARM, once, and refuses a name that is not a drill copy', async () => {
  await copyAt(`${live.id}-drill-del`, t);
  await expect(activities.deleteDrillCopy({ database: 'drill', copy: live.id, container: live.id })).rejects.toThrow(
    /refusing to delete/
  );
  expect(await activities.deleteDrillCopy({ database: 'drill', copy: `${live.id}-drill-del` })).toEqual({
    deleted: true,
  });
  expect(await activities.deleteDrillCopy({ database: 'drill', copy: `${live.id}-drill-del` })).toEqual({
    deleted: false,
  });
  const { resources } = await live.database.containers.readAll().fetchAll();
  expect(resources.map((c) => c.id)).toContain(live.id);
  expect(resources.map((c) => c.id)).not.toContain(`${live.id}-drill-del`);
});

test('recordDrill / findRecentDrill: the newest drill within the window, kept out of the migrations history', async () => {
  const base: DrillRecord = {
    account: engine.deps.account.name,
    database: 'drill',
    container: live.id,
    at: t,
    copy: `${live.id}-drill-ok`,
    startedAt: new Date(Date.now() - 7_200_000).toISOString(),
    finishedAt: new Date(Date.now() - 7_000_000).toISOString(),
    durationMs: 200_000,
    documents: 50,
    docsPerSecond: 0.25,
    ok: true,
    mismatches: [],
  };
  await activities.recordDrill(base);
  expect(await activities.findRecentDrill({ database: 'drill', container: live.id, within: 3_600_000 })).toBeNull();
  const finished = Date.now();
  const recent: DrillRecord = {
    ...base,
    startedAt: new Date(finished - 5000).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    ok: false,
    mismatches: ['x'],
  };
  const withoutRates: Partial<DrillRecord> = { ...recent };
  delete withoutRates.durationMs;
  delete withoutRates.docsPerSecond;
  expect(await activities.recordDrill(withoutRates as DrillRecord)).toEqual({
    ...recent,
    durationMs: 5000,
    docsPerSecond: 10,
  });
  recent.durationMs = 5000;
  recent.docsPerSecond = 10;
  expect(await activities.findRecentDrill({ database: 'drill', container: live.id, within: 3_600_000 })).toEqual(
    recent
  );
  expect(await activities.findRecentDrill({ database: 'drill', container: 'other', within: 3_600_000 })).toBeNull();
  expect(
    await activities.findRecentDrill({ account: 'another', database: 'drill', container: live.id, within: 3_600_000 })
  ).toBeNull();
  expect(await readHistory(engine.deps, 'drill')).toEqual([]);
  expect(await activities.findRecentDrill({ database: 'nowhere', container: 'x', within: 1000 })).toBeNull();
});

test('as in Azure, the ARM imitation restores no live container under another name (why there is no startDrillRestore)', async () => {
  const { arm, account } = engine.deps;
  const source = await findRestoreSource(arm, await getAccount(engine.deps));
  const attempt = arm.sqlResources.beginCreateUpdateSqlContainer(
    account.resourceGroup,
    account.name,
    'drill',
    `${live.id}-drill-arm`,
    {
      resource: {
        id: `${live.id}-drill-arm`,
        createMode: 'Restore',
        restoreParameters: { restoreSource: source!.id, restoreTimestampInUtc: new Date(t) },
      },
      options: {},
    },
    { updateIntervalInMs: 50 }
  );
  await expect(attempt).rejects.toMatchObject({ statusCode: 400 });
});
