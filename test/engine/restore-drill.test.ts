/**
 * The restore drill's activities on the local stack: the copy is a real restore of the live container at T into a
 * new account through the ARM imitation (Microsoft.DocumentDB REST API), compared with what the live container says about T, then
 * deleted; drills are recorded and found. What compareDrill concludes from a copy, right or wrong, is what is tested.
 */
import type { Container, CosmosClient } from '@azure/cosmos';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { DrillRecord } from '../../common/activities';
import { readHistory } from '../../activities/engine';
import { createDrillActivities, type DrillActivities } from '../../activities/drill';
import { connectDrillAccount } from '../../activities/drill/arm';
import { Reservoir } from '../../activities/drill/cosmos';
import { restorePoint } from '../../activities/cosmos/snapshot';
import { findRestoreSource, getAccount } from '../../activities/arm/backup';
import { freshContainer, seed, startEngineStack, type EngineStack } from './support';

jest.setTimeout(120_000);

let engine: EngineStack;
let activities: DrillActivities;
let live: Container;
let t: string;
const clients: CosmosClient[] = [];

/** Runs an activity in a mock activity context (they heartbeat). */
function act<I, O>(fn: (input: I) => Promise<O>, input: I): Promise<O> {
  return new MockActivityEnvironment().run(fn, input);
}

/** The live container restored at T into the drill account `account`, and a client of the copy. */
async function copyAt(account: string): Promise<Container> {
  await act(activities.restoreDrillAccount, { database: 'drill', container: live.id, account, at: t });
  const client = await connectDrillAccount(engine.deps, account);
  clients.push(client);
  return client.database('drill').container(live.id);
}

beforeAll(async () => {
  engine = await startEngineStack();
  activities = createDrillActivities(engine.deps);
  live = await freshContainer(engine.deps, 'drill');
  await seed(
    live,
    Array.from({ length: 50 }, (_, i) => ({ id: `d${i}`, tenantId: `t${i % 5}`, n: i }))
  );
  t = (await restorePoint(engine.deps.cosmos)).toISOString();
  // The writes after T in a later second than T's (`_ts` is whole seconds): a copy of a later state is then told by
  // its `_ts` for certain (compareDrill counts `_ts` after T's second only).
  const nextSecond = (Math.floor(Date.parse(t) / 1000) + 1) * 1000;
  while (Date.now() < nextSecond) await new Promise((resolve) => setTimeout(resolve, nextSecond - Date.now()));
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

afterAll(async () => {
  for (const client of clients) client.dispose();
  await engine?.close();
});

const input = (copyAccount: string, sampleSize = 20) => ({
  database: 'drill',
  container: live.id,
  copyAccount,
  at: t,
  sampleSize,
});

test('a faithful copy: the count covers the documents unchanged since T, and the sample matches', async () => {
  await copyAt('drill-ok');
  const result = await act(activities.compareDrill, input('drill-ok'));
  expect(result).toEqual({ count: { copy: 50, liveAtT: 42, newerThanAt: 0 }, sampleChecked: 20, mismatches: [] });
  // Asked again for the same account and time: the same account, ready, not a second restore.
  const again = await act(activities.restoreDrillAccount, {
    database: 'drill',
    container: live.id,
    account: 'drill-ok',
    at: t,
  });
  expect(again.restoredTo).toBe(t);
  await expect(
    act(activities.restoreDrillAccount, {
      database: 'drill',
      container: live.id,
      account: 'drill-ok',
      at: new Date(Date.parse(t) - 5000).toISOString(),
    })
  ).rejects.toThrow(/exists and is not this drill's restore/);
});

test('the sample is drawn from every page of a range, not its first page: each position as likely (Reservoir)', () => {
  // 1,000 draws of 5 of 100 in order: the last 50 are kept about as often as the first 50 (the first page's only
  // sample would keep positions 0-4 every time).
  const kept = new Array<number>(100).fill(0);
  let state = 42;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let draw = 0; draw < 1000; draw++) {
    const r = new Reservoir<number>(5, random);
    for (let i = 0; i < 100; i++) r.offer(i);
    expect(r.seen).toBe(100);
    for (const i of r.items) kept[i]! += 1;
  }
  const firstHalf = kept.slice(0, 50).reduce((a, b) => a + b, 0);
  const secondHalf = kept.slice(50).reduce((a, b) => a + b, 0);
  expect(firstHalf + secondHalf).toBe(5000);
  expect(Math.abs(firstHalf - secondHalf)).toBeLessThan(500);
  expect(Math.max(...kept.slice(0, 5))).toBeLessThan(120); // a first-page sample would keep each 1,000 times
});

test('a wrong copy: a missing document, a changed field, a short count and a missing container are named (ids and fields only)', async () => {
  const copy = await copyAt('drill-bad');
  await copy.item('d20', 't0').delete();
  await copy.items.upsert({ id: 'd21', tenantId: 't1', n: 999 });
  const result = await act(activities.compareDrill, input('drill-bad', 45));
  expect(result.sampleChecked).toBe(42);
  expect(result.mismatches.sort()).toEqual([
    'd20 ("t0"): missing from the copy',
    'd21 ("t1"): n differ',
    // d21 was written into the copy now: a document newer than T is what a copy of a later state holds.
    `the copy holds 1 documents written after ${t}: it is not the state at that time`,
  ]);
  expect(JSON.stringify(result)).not.toContain('999');

  const { resources } = await copy.items.readAll<{ id: string; tenantId: string }>().fetchAll();
  for (const doc of resources) await copy.item(doc.id, doc.tenantId).delete();
  const empty = await act(activities.compareDrill, input('drill-bad', 3));
  expect(empty.count).toEqual({ copy: 0, liveAtT: 42, newerThanAt: 0 });
  expect(empty.mismatches[0]).toMatch(/^the copy holds 0 documents; the live container has 42 unchanged since before /);
  expect(empty.mismatches).toHaveLength(4);

  await copy.delete();
  const none = await act(activities.compareDrill, input('drill-bad'));
  expect(none.mismatches).toEqual([`the copy drill/${live.id} does not exist in account drill-bad`]);
});

test('a copy of a later state (restored after T) is named: its documents written after T are counted', async () => {
  const later = (await restorePoint(engine.deps.cosmos)).toISOString();
  await act(activities.restoreDrillAccount, {
    database: 'drill',
    container: live.id,
    account: 'drill-late',
    at: later,
  });
  const client = await connectDrillAccount(engine.deps, 'drill-late');
  clients.push(client);
  const result = await act(activities.compareDrill, input('drill-late', 45));
  // After T: 5 documents changed and 5 created (3 deleted): 10 in the copy with a _ts after T's second.
  expect(result.count).toEqual({ copy: 52, liveAtT: 42, newerThanAt: 10 });
  expect(result.mismatches).toEqual([
    `the copy holds 10 documents written after ${t}: it is not the state at that time`,
  ]);
});

test("the copy gets the source's network rules, not a restore's default of open to every network", async () => {
  const rules = {
    publicNetworkAccess: 'Enabled',
    ipRules: [{ ipAddressOrRange: '203.0.113.0/24' }],
    isVirtualNetworkFilterEnabled: true,
    virtualNetworkRules: [
      {
        id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/app/subnets/workers',
        ignoreMissingVNetServiceEndpoint: false,
      },
    ],
    networkAclBypass: 'AzureServices',
  };
  engine.stack.arm.control.setNetworkRules(rules);
  try {
    await copyAt('drill-net');
    const copy = await engine.deps.arm.databaseAccounts.get(engine.deps.account.resourceGroup, 'drill-net');
    const { publicNetworkAccess, ipRules, isVirtualNetworkFilterEnabled, virtualNetworkRules, networkAclBypass } = copy;
    expect({
      publicNetworkAccess,
      ipRules,
      isVirtualNetworkFilterEnabled,
      virtualNetworkRules,
      networkAclBypass,
    }).toEqual(rules);
  } finally {
    engine.stack.arm.control.setNetworkRules({});
    await act(activities.deleteDrillAccount, { account: 'drill-net', at: t }).catch(() => undefined);
  }
});

test('deleteDrillAccount deletes the copy this drill made, once, and refuses any other account', async () => {
  await copyAt('drill-del');
  await expect(act(activities.deleteDrillAccount, { account: engine.deps.account.name, at: t })).rejects.toThrow(
    /refusing to use account/
  );
  await expect(act(activities.deleteDrillAccount, { account: 'production', at: t })).rejects.toThrow(
    /refusing to use account/
  );
  // A drill account of that name restored at another time is not this drill's: it stays.
  const other = new Date(Date.parse(t) - 5000).toISOString();
  await expect(act(activities.deleteDrillAccount, { account: 'drill-del', at: other })).rejects.toThrow(
    /refusing to delete account drill-del: it is not the restore of/
  );
  expect(engine.stack.arm.control.restoredAccounts().map((a) => a.name)).toContain('drill-del');
  expect(await act(activities.deleteDrillAccount, { account: 'drill-del', at: t })).toEqual({ deleted: true });
  expect(await act(activities.deleteDrillAccount, { account: 'drill-del', at: t })).toEqual({ deleted: false });
  expect(engine.stack.arm.control.restoredAccounts().map((a) => a.name)).not.toContain('drill-del');
  const { resources } = await live.items.readAll().fetchAll();
  expect(resources).toHaveLength(52);
});

test('recordDrill / findRecentDrill: the newest drill within the window, kept out of the migrations history', async () => {
  const base: DrillRecord = {
    account: engine.deps.account.name,
    database: 'drill',
    container: live.id,
    at: t,
    copyAccount: 'drill-ok',
    startedAt: new Date(Date.now() - 7_200_000).toISOString(),
    finishedAt: new Date(Date.now() - 7_000_000).toISOString(),
    durationMs: 200_000,
    documents: 50,
    docsPerSecond: 0.25,
    ok: true,
    mismatches: [],
  };
  await act(activities.recordDrill, base);
  expect(
    await act(activities.findRecentDrill, { database: 'drill', container: live.id, within: 3_600_000 })
  ).toBeNull();
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
  expect(await act(activities.recordDrill, withoutRates as DrillRecord)).toEqual({
    ...recent,
    durationMs: 5000,
    docsPerSecond: 10,
  });
  recent.durationMs = 5000;
  recent.docsPerSecond = 10;
  expect(await act(activities.findRecentDrill, { database: 'drill', container: live.id, within: 3_600_000 })).toEqual(
    recent
  );
  expect(
    await act(activities.findRecentDrill, { database: 'drill', container: 'other', within: 3_600_000 })
  ).toBeNull();
  expect(
    await act(activities.findRecentDrill, {
      account: 'another',
      database: 'drill',
      container: live.id,
      within: 3_600_000,
    })
  ).toBeNull();
  expect(await readHistory(engine.deps, 'drill')).toEqual([]);
  expect(await act(activities.findRecentDrill, { database: 'nowhere', container: 'x', within: 1000 })).toBeNull();
});

test('as in Azure, an in-account restore takes no live container under another name (why the drill restores into a new account)', async () => {
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
