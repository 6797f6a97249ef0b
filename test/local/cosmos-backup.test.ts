/**
 * The continuous-backup log: point-in-time state of a container, replay on restart, and rebuilding a deleted
 * container as it was at T (what the ARM imitation's restore relies on).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import fs from 'node:fs';
import path from 'node:path';
import type { Container } from '@azure/cosmos';
import { LOG_FILE } from '../../local/cosmos/backup-log';
import { startTestEmulator, tempDataDir, type TestEmulator } from './cosmos-support';

const SYSTEM = ['_rid', '_etag', '_ts', '_self'];
const userFields = (doc: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(doc).filter(([k]) => !SYSTEM.includes(k)));
/** What a client sees of a document apart from what the server assigns anew: its fields and its `_ts`. */
const keptFields = (doc: Record<string, unknown>) => ({ ...userFields(doc), _ts: doc._ts });
const byId = (a: { id?: unknown }, b: { id?: unknown }) => String(a.id).localeCompare(String(b.id));
/** A moment strictly between what was written before and what is written after. */
async function instant(): Promise<Date> {
  await sleep(5);
  const at = new Date();
  await sleep(5);
  return at;
}

async function readAll(container: Container): Promise<Record<string, unknown>[]> {
  const { resources } = await container.items.readAll<Record<string, unknown>>().fetchAll();
  return resources.sort(byId);
}

describe('backup log', () => {
  let emulator: TestEmulator;
  let container: Container;
  const dataDir = tempDataDir();

  beforeAll(async () => {
    emulator = await startTestEmulator({ dataDir, ruModel: false });
    const { database } = await emulator.client.databases.createIfNotExists({ id: 'shop' });
    ({ container } = await database.containers.create({
      id: 'orders',
      partitionKey: { paths: ['/customer'] },
      indexingPolicy: { excludedPaths: [{ path: '/notes/*' }] },
    }));
  });

  afterAll(async () => {
    await emulator?.stop();
  });

  it('containerAt(T) returns exactly the documents as they were at T', async () => {
    const start = emulator.cosmos.backup.firstEventTime();
    expect(start).toBeDefined();
    for (let i = 1; i <= 5; i++) await container.items.create({ id: `o${i}`, customer: `c${i % 2}`, total: i * 10 });
    await container.items.batch(
      [{ operationType: 'Upsert', resourceBody: { id: 'o6', customer: 'c0', total: 60 } }],
      'c0'
    );
    await container.item('o2', 'c0').patch([{ op: 'add', path: '/status', value: 'paid' }]);
    const atT = await readAll(container);
    const T = await instant();

    await container.item('o1', 'c1').delete();
    await container.items.upsert({ id: 'o3', customer: 'c1', total: 999 });
    await container.item('o2', 'c0').patch([{ op: 'incr', path: '/total', value: 1 }]);
    await container.items.create({ id: 'o7', customer: 'c1', total: 70 });
    await container.items.bulk([
      { operationType: 'Delete', id: 'o4', partitionKey: 'c0' },
      { operationType: 'Create', resourceBody: { id: 'o8', customer: 'c0', total: 80 } },
    ]);
    const later = await readAll(container);
    expect(later.map((d) => d.id)).toEqual(['o2', 'o3', 'o5', 'o6', 'o7', 'o8']);

    const state = emulator.cosmos.backup.containerAt('shop', 'orders', T);
    expect(state.documents.sort(byId)).toEqual(atT);
    expect(state.definition).toMatchObject({
      id: 'orders',
      partitionKey: { paths: ['/customer'] },
      // Azure appends the system path /"_etag"/? to excludedPaths (indexing-policy.ts).
      indexingPolicy: expect.objectContaining({ excludedPaths: [{ path: '/notes/*' }, { path: '/"_etag"/?' }] }),
    });
    expect(emulator.cosmos.backup.containerAt('shop', 'orders', new Date()).documents.sort(byId)).toEqual(later);
    expect(emulator.cosmos.backup.containerAt('shop', 'orders', new Date(start!.getTime() - 1))).toEqual({
      definition: null,
      documents: [],
    });
  });

  it('gives every logged request its own, increasing ms time', async () => {
    await Promise.all(Array.from({ length: 30 }, (_, i) => container.items.upsert({ id: `t${i}`, customer: 'c9' })));
    const times = fs
      .readFileSync(path.join(dataDir, LOG_FILE), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { t: number; id?: string })
      .filter((e) => e.id?.startsWith('t'))
      .map((e) => e.t);
    expect(times).toHaveLength(30);
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThan(times[i - 1]!);
    expect(times.every(Number.isInteger)).toBe(true);
  });

  it('records container and database events', async () => {
    await emulator.client.databases.createIfNotExists({ id: 'scratch' });
    const { container: temp } = await emulator.client
      .database('scratch')
      .containers.create({ id: 'tmp', partitionKey: { paths: ['/id'] } });
    await temp.replace({ id: 'tmp', partitionKey: { paths: ['/id'] }, indexingPolicy: { excludedPaths: [] } });
    await temp.delete();
    await emulator.client.database('scratch').delete();
    const events = emulator.cosmos.backup.containerEvents().filter((e) => e.database === 'scratch');
    expect(events.map((e) => e.kind)).toEqual(['Create', 'Replace', 'Delete']);
    expect(events[0]!.at).toBeInstanceOf(Date);
    const dbEvents = emulator.cosmos.backup.databaseEvents().filter((e) => e.database === 'scratch');
    expect(dbEvents.map((e) => e.kind)).toEqual(['Create', 'Delete']);
    expect(dbEvents[1]!.at.getTime()).toBeGreaterThan(events[2]!.at.getTime());
  });

  it('replays the log on restart: the data survives and the history goes on', async () => {
    const before = await readAll(container);
    const T = await instant();
    // Past the second of the last write: a replay that stamped documents anew would change their `_ts`.
    await sleep(1100);
    await emulator.stop();
    // A crash in the middle of an append leaves a torn line that was never acknowledged: it must not matter.
    fs.appendFileSync(path.join(dataDir, LOG_FILE), '{"t":1,"type":"document","op":"Ups');
    emulator = await startTestEmulator({ dataDir, ruModel: false });
    container = emulator.client.database('shop').container('orders');

    const after = await readAll(container);
    expect(after.map(keptFields)).toEqual(before.map(keptFields));
    const { resource: definition } = await container.read();
    expect(definition!.indexingPolicy!.excludedPaths).toEqual([{ path: '/notes/*' }, { path: '/"_etag"/?' }]);
    await expect(emulator.client.database('scratch').read()).rejects.toMatchObject({ code: 404 });
    expect(emulator.cosmos.backup.containerAt('shop', 'orders', T).documents.sort(byId)).toEqual(before);

    await container.items.create({ id: 'after-restart', customer: 'c1' });
    const now = emulator.cosmos.backup.containerAt('shop', 'orders', new Date());
    expect(now.documents.map((d) => d.id)).toContain('after-restart');
  });

  it('rebuildContainer re-creates a deleted container exactly as it was at T', async () => {
    await container.items.upsert({ id: 'o5', customer: 'c1', total: 55, nested: { a: [1, 2, { b: null }] } });
    const atT = await readAll(container);
    const T = await instant();
    await container.items.upsert({ id: 'o5', customer: 'c1', total: 0 });
    await container.items.create({ id: 'too-late', customer: 'c1' });

    await expect(emulator.cosmos.admin.rebuildContainer('shop', 'orders', T)).rejects.toThrow(
      'Cannot rebuild container "shop/orders" as of ' + T.toISOString() + ': it exists now.'
    );
    await container.delete();
    const start = emulator.cosmos.backup.firstEventTime()!;
    await expect(
      emulator.cosmos.admin.rebuildContainer('shop', 'orders', new Date(start.getTime() - 1000))
    ).rejects.toThrow(/did not exist then/);

    // Past the second of the last write: a rebuild that stamped documents anew would change their `_ts`.
    await sleep(1100);
    expect(await emulator.cosmos.admin.rebuildContainer('shop', 'orders', T)).toEqual({ documentCount: atT.length });
    const rebuilt = await readAll(container);
    // As Azure restores them: fields and `_ts` as they were at T (restored-timestamps.ts).
    expect(rebuilt.map(keptFields)).toEqual(atT.map(keptFields));
    const { resource: definition } = await container.read();
    expect(definition).toMatchObject({
      partitionKey: { paths: ['/customer'] },
      // Azure appends the system path /"_etag"/? to excludedPaths (indexing-policy.ts).
      indexingPolicy: expect.objectContaining({ excludedPaths: [{ path: '/notes/*' }, { path: '/"_etag"/?' }] }),
    });
    // Partition keys are as they were: point reads by (id, pk) work.
    expect((await container.item('o5', 'c1').read<{ id: string; total: number }>()).resource!.total).toBe(55);
    // The rebuild is logged like any other write.
    const kinds = emulator.cosmos.backup.containerEvents().filter((e) => e.container === 'orders');
    expect(kinds.map((e) => e.kind).slice(-2)).toEqual(['Delete', 'Create']);
    expect(emulator.cosmos.backup.containerAt('shop', 'orders', new Date()).documents).toHaveLength(atT.length);
  });

  it('admin operations bypass the RU model and faults', async () => {
    emulator.cosmos.control.setRuModel(true, { defaultThroughput: 1 });
    emulator.cosmos.control.setFaults([
      { kinds: ['metadata', 'read', 'write', 'query', 'batch'], unavailableProbability: 1 },
    ]);
    try {
      await emulator.cosmos.admin.createContainer('shop', { id: 'admin-made', partitionKey: { paths: ['/id'] } });
      const listed = await emulator.cosmos.admin.listContainers('shop');
      expect(listed.map((c) => c.id).sort()).toEqual(['admin-made', 'orders']);
      await expect(emulator.client.database('shop').container('admin-made').read()).rejects.toMatchObject({
        code: 503,
      });
      expect(await emulator.cosmos.admin.readContainer('shop', 'nope')).toBeNull();
      await expect(emulator.cosmos.admin.deleteContainer('shop', 'nope')).rejects.toThrow(
        'deleting container "shop/nope" failed with HTTP 404'
      );
    } finally {
      emulator.cosmos.control.setFaults([]);
      emulator.cosmos.control.setRuModel(false);
    }
  });
});
