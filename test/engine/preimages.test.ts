/**
 * Pre-images (migrateRange with `preimages`) on the local stack through the real clients: one pre-image per replaced
 * document, of the very version replaced, none for skipped documents or dry runs; what it costs.
 */
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Items, type Container, type OperationInput } from '@azure/cosmos';
import type { RevertInput, RevertResult } from '../../common/activities';
import type { Migration, MigrationDocument } from '../../common/migration';
import type { RangeCheckpoint } from '../../activities/cosmos/migrate-range';
import {
  preimageId,
  preimageKeyProblem,
  preimageOf,
  preimagesContainerName,
  type StoredPreimage,
} from '../../activities/cosmos/preimages';
import { revertFromPreimages } from '../../activities/cosmos/revert';
import { createEngineActivities } from '../../activities/engine';
import {
  freshContainer,
  rangeInput,
  readAll,
  runRange,
  seed,
  startEngineStack,
  wholeRange,
  withoutSystem,
  type EngineStack,
  customerDocs,
} from './support';

let engine: EngineStack;

beforeAll(async () => {
  engine = await startEngineStack();
}, 120_000);

afterAll(async () => {
  jest.restoreAllMocks();
  await engine?.close();
});

type Doc = MigrationDocument & {
  tenantId: string;
  name?: string;
  firstName?: string;
  lastName?: string;
  schemaVersion?: number;
  visits?: number;
};

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
    ...extra,
  };
}

/** What up() makes of a document, system fields aside: the same rule as splitName, for checking pre-images. */
function expectedUp(doc: Record<string, unknown>): Record<string, unknown> {
  const [first, ...rest] = String(doc.name).split(' ');
  const next: Record<string, unknown> = { ...doc, firstName: first, lastName: rest.join(' '), schemaVersion: 2 };
  delete next.name;
  return next;
}

const customers = (n: number, from?: number, extra?: (i: number) => Record<string, unknown>) =>
  customerDocs<Doc>(n, from, extra);

async function setup(docs: Doc[], migration: Migration): Promise<{ container: Container; range: string }> {
  const container = await freshContainer(engine.deps);
  await seed(container, docs);
  engine.use(migration);
  return { container, range: await wholeRange(container) };
}

async function ensurePreimages(container: Container) {
  return createEngineActivities(engine.deps).ensurePreimagesContainer({
    database: container.database.id,
    container: container.id,
  });
}

async function preimagesOf(container: Container): Promise<Map<string, StoredPreimage>> {
  const store = container.database.container(preimagesContainerName(container.id));
  const { resources } = await store.items.readAll<StoredPreimage>().fetchAll();
  return new Map(resources.map((p) => [p.docId, p]));
}

test('one pre-image per migrated document, none for skipped ones or other versions, none in a dry run', async () => {
  const docs = [
    ...customers(230),
    ...customers(20, 230, () => ({ schemaVersion: 5 })),
    ...customers(10, 250, () => ({ name: undefined, nickname: 'x' })), // up() skips them
  ];
  const { container, range } = await setup(docs, splitName());
  const before = await readAll<Doc>(container);

  const ensured = await ensurePreimages(container);
  expect(ensured).toEqual({ name: `${container.id}-preimages`, created: true });
  expect(await ensurePreimages(container)).toEqual({ name: ensured.name, created: false });
  const { resource: definition } = await container.database.container(ensured.name).read();
  expect(definition!.partitionKey!.paths).toEqual(['/tenantId']);

  const dry = await runRange(
    engine.deps,
    rangeInput(container, 'split-name', range, { dryRun: true, preimages: true })
  );
  expect(dry.result.counters.migrated).toBe(230);
  expect(dry.result.preimagesWritten).toBeUndefined();
  expect((await preimagesOf(container)).size).toBe(0);

  const { result, heartbeats } = await runRange(
    engine.deps,
    rangeInput(container, 'split-name', range, { preimages: true })
  );
  expect(result.counters).toMatchObject({ scanned: 240, migrated: 230, skipped: 10, failed: 0 });
  expect(result.preimagesWritten).toBe(230);
  expect((heartbeats[heartbeats.length - 1] as RangeCheckpoint).preimagesWritten).toBe(230);
  // Heartbeats carry counts and tokens, never document contents.
  expect(JSON.stringify(heartbeats)).not.toContain('First1 ');

  const preimages = await preimagesOf(container);
  expect(preimages.size).toBe(230);
  const now = await readAll<Doc>(container);
  for (const doc of docs) {
    const pre = preimages.get(doc.id);
    if (doc.schemaVersion === 5 || doc.name === undefined) {
      expect(pre).toBeUndefined();
      continue;
    }
    const original = before.get(doc.id)!;
    expect(pre).toMatchObject({
      id: `split-name:${doc.id}`,
      migrationId: 'split-name',
      docId: doc.id,
      tenantId: doc.tenantId,
      etagBefore: original._etag,
    });
    expect(pre!.image).toEqual(withoutSystem(original));
    expect(Date.parse(pre!.at)).not.toBeNaN();
    expect(withoutSystem(now.get(doc.id))).toEqual(expectedUp(pre!.image));
  }
});

test('pre-image ids: characters Cosmos forbids are escaped, migration ids cannot collide, long ids are hashed', () => {
  expect(preimageId('split-name', 'cust-1')).toBe('split-name:cust-1');
  expect(preimageId('m', 'a/b\\c?d#e%f:g')).toBe('m:a%2Fb%5Cc%3Fd%23e%25f:g');
  expect(preimageId('a:b', 'c')).not.toBe(preimageId('a', 'b:c'));
  const long = preimageId('m', 'x'.repeat(1100));
  expect(long).toMatch(/^m:%sha256-[0-9a-f]{64}$/);
  expect(long).not.toBe(preimageId('m', 'y'.repeat(1100)));
  // Cosmos's limit is 1,023 bytes: an id of exactly that many is kept as it is, one byte more is hashed.
  expect(preimageId('m', 'x'.repeat(1021))).toBe(`m:${'x'.repeat(1021)}`);
  expect(preimageId('m', 'x'.repeat(1022))).toMatch(/^m:%sha256-[0-9a-f]{64}$/);
  // A hashed id keeps its migration id escaped, so two migrations' hashed ids cannot collide either.
  expect(preimageId('a:b', 'x'.repeat(1100))).toMatch(/^a%3Ab:%sha256-[0-9a-f]{64}$/);
});

test('a pre-image, whole: its own id, the document without system fields, the _etag and _rid before, the partition key at its path (never the id)', () => {
  const original = {
    id: 'cust-1',
    tenant: { region: 'eu' },
    name: 'Ada Lovelace',
    _rid: 'rid-1',
    _etag: '"etag-1"',
    _ts: 5,
    _self: 'self',
    _attachments: 'att',
  } as unknown as MigrationDocument;
  const image = { id: 'cust-1', tenant: { region: 'eu' }, name: 'Ada Lovelace' };
  expect(preimageOf('split-name', original, ['/tenant/region'], 'T')).toEqual({
    id: 'split-name:cust-1',
    migrationId: 'split-name',
    docId: 'cust-1',
    image,
    etagBefore: '"etag-1"',
    ridBefore: 'rid-1',
    at: 'T',
    tenant: { region: 'eu' },
  });
  // Partitioned by /id: the pre-image keeps its own id (a partition of its own), never the document's.
  expect(preimageOf('split-name', original, ['/id'], 'T')).toEqual({
    id: 'split-name:cust-1',
    migrationId: 'split-name',
    docId: 'cust-1',
    image,
    etagBefore: '"etag-1"',
    ridBefore: 'rid-1',
    at: 'T',
  });
});

test('a pre-image under hierarchical keys carries every level; a key through null or a scalar is not set (never read through it)', () => {
  const original = {
    id: 'cust-1',
    tenant: { region: 'eu', zone: 'west' },
    name: 'Ada',
    gone: null,
    flat: 'eu',
  } as unknown as MigrationDocument;
  const image = withoutSystem(original);
  const base = { id: 'm:cust-1', migrationId: 'm', docId: 'cust-1', image, at: 'T' };
  // Two paths under one object: the second keeps what the first set.
  expect(preimageOf('m', original, ['/tenant/region', '/tenant/zone'], 'T')).toEqual({
    ...base,
    tenant: { region: 'eu', zone: 'west' },
  });
  // Paths through null and through a string have no value: the pre-image does not get the field at all.
  expect(preimageOf('m', original, ['/gone/region', '/flat/length'], 'T')).toEqual(base);
});

test('partition key paths that would collide with a pre-image’s own fields are named; others, even alike, are not', () => {
  expect(preimageKeyProblem(['/tenantId', '/migrationId', '/image/kind'])).toBe(
    'partition key path(s) /migrationId, /image/kind collide with the pre-image fields (migrationId, docId, image, etagBefore, ridBefore, at); pre-images cannot be kept for this container'
  );
  for (const field of ['docId', 'etagBefore', 'ridBefore', 'at']) {
    expect(preimageKeyProblem([`/${field}`])).toMatch(new RegExp(`^partition key path\\(s\\) /${field} collide`));
  }
  expect(preimageKeyProblem(['/tenantId', '/docIdentity', '/at2', '/tenant/image', '/id'])).toBeUndefined();
  expect(preimageKeyProblem([])).toBeUndefined();
});

test('without ensurePreimagesContainer, or for down, pre-images are refused with a message saying what to do', async () => {
  const { container, range } = await setup(customers(3), splitName({ down: (d: Doc) => d }));
  const err = await runRange(engine.deps, rangeInput(container, 'split-name', range, { preimages: true })).catch(
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).nonRetryable).toBe(true);
  expect((err as Error).message).toBe(
    `the pre-images container engine/${container.id}-preimages does not exist: run ensurePreimagesContainer first`
  );
  const down = await runRange(
    engine.deps,
    rangeInput(container, 'split-name', range, { preimages: true, direction: 'down' })
  ).catch((e: unknown) => e);
  expect((down as Error).message).toMatch(/pre-images are kept for up only/);
  // Nothing was written.
  for (const doc of (await readAll<Doc>(container)).values()) expect(doc.schemaVersion).toBeUndefined();
});

test('a crash between the pre-images and the replaces, the application writing meanwhile, then a retry: every replaced document has the pre-image of the version replaced', async () => {
  const hot = new Set(['cust-3', 'cust-42', 'cust-77']);
  const app: { container?: Container; round: number } = { round: 0 };
  const migration = splitName({
    async up(doc: Doc) {
      // The application writes a hot document after the engine read it, in the first attempt only: a 412.
      if (app.round === 1 && hot.has(doc.id) && !String(doc.email).startsWith('changed')) {
        const { resource } = await app.container!.item(doc.id, doc.tenantId).read<Doc>();
        await app.container!.item(doc.id, doc.tenantId).replace({ ...resource!, email: `changed-${doc.id}` });
      }
      const [first, ...rest] = doc.name!.split(' ');
      const next: Doc = { ...doc, firstName: first, lastName: rest.join(' ') };
      delete next.name;
      return next;
    },
  });
  const { container, range } = await setup(customers(400), migration);
  app.container = container;
  await ensurePreimages(container);

  // The "crash": the third replace round on the target fails after its pre-images were stored.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- saved to be put back after the test
  const bulk = Items.prototype.bulk;
  let replaceRounds = 0;
  const spy = jest.spyOn(Items.prototype, 'bulk').mockImplementation(async function (
    this: Items,
    operations: OperationInput[],
    ...rest: unknown[]
  ) {
    if (this.container.id === container.id && operations[0]?.operationType === 'Replace') {
      replaceRounds += 1;
      if (replaceRounds === 3) throw new Error('worker lost');
    }
    return (bulk as (...a: unknown[]) => ReturnType<Items['bulk']>).call(this, operations, ...rest);
  });
  const heartbeats: unknown[] = [];
  app.round = 1;
  let crash: unknown;
  try {
    crash = await runRange(
      engine.deps,
      rangeInput(container, 'split-name', range, { batchSize: 50, preimages: true }),
      {
        heartbeats,
      }
    ).catch((e: unknown) => e);
  } finally {
    spy.mockRestore();
  }
  expect((crash as Error).message).toBe('worker lost');
  const midway = await readAll<Doc>(container);
  const stranded = [...(await preimagesOf(container)).values()].filter(
    (p) => midway.get(p.docId)!.schemaVersion === undefined
  );
  // Pre-images stored for documents whose replace never happened.
  expect(stranded.length).toBeGreaterThan(0);
  // The application changes some of them before the retry: the retry must keep the version it really replaces.
  app.round = 2;
  for (const p of stranded.slice(0, 5)) {
    const doc = midway.get(p.docId)!;
    await container.item(doc.id, doc.tenantId).replace({ ...doc, visits: 7 });
  }

  const last = heartbeats[heartbeats.length - 1] as RangeCheckpoint | undefined;
  const { result } = await runRange(
    engine.deps,
    rangeInput(container, 'split-name', range, { batchSize: 50, preimages: true }),
    {
      ...(last ? { heartbeatDetails: last } : {}),
    }
  );
  expect(result.done).toBe(true);

  const after = await readAll<Doc>(container);
  const preimages = await preimagesOf(container);
  expect(preimages.size).toBe(400);
  for (const [id, doc] of after) {
    expect(doc.schemaVersion).toBe(2);
    const pre = preimages.get(id)!;
    // The migrated document is exactly up(pre-image): the pre-image is the version that was replaced.
    expect(withoutSystem(doc)).toEqual(expectedUp(pre.image));
  }
  for (const id of hot) expect(preimages.get(id)!.image.email).toBe(`changed-${id}`);
  for (const p of stranded.slice(0, 5)) expect(preimages.get(p.docId)!.image.visits).toBe(7);
});

test('cost: RU and time per 1,000 documents with and without pre-images, and of reverting them', async () => {
  const measure = async (preimages: boolean) => {
    const { container, range } = await setup(customers(1000), splitName());
    if (preimages) await ensurePreimages(container);
    const started = Date.now();
    const { result } = await runRange(
      engine.deps,
      rangeInput(container, 'split-name', range, { batchSize: 100, preimages })
    );
    expect(result.counters.migrated).toBe(1000);
    return { container, ru: result.counters.ruConsumed, ms: Date.now() - started };
  };
  const without = await measure(false);
  const withPreimages = await measure(true);
  const revertStarted = Date.now();
  const revert: RevertResult = await new MockActivityEnvironment().run(revertFromPreimages, engine.deps, {
    database: withPreimages.container.database.id,
    container: withPreimages.container.id,
    migration: 'split-name',
    source: { kind: 'preimages' },
    feedRange: await wholeRange(withPreimages.container),
  } satisfies RevertInput);
  const revertMs = Date.now() - revertStarted;
  console.log(
    `per 1,000 documents: without pre-images ${without.ru.toFixed(0)} RU, ${without.ms} ms; ` +
      `with pre-images ${withPreimages.ru.toFixed(0)} RU, ${withPreimages.ms} ms ` +
      `(×${(withPreimages.ru / without.ru).toFixed(2)} RU, ×${(withPreimages.ms / without.ms).toFixed(2)} time); ` +
      `revert from them ${revert.counters.ruConsumed.toFixed(0)} RU, ${revertMs} ms`
  );
  expect(revert.counters.reverted).toBe(1000);
  // One extra write per document, no extra read: the pre-image costs about what the replace costs.
  expect(withPreimages.ru).toBeGreaterThan(without.ru * 1.5);
  expect(withPreimages.ru).toBeLessThan(without.ru * 2.6);
});

test('a nested partition key: the pre-image carries the value at the same path, lands in the document’s logical partition, and reverts', async () => {
  const container = await freshContainer(engine.deps, 'engine', '/tenant/id');
  const docs = customers(40).map(({ tenantId, ...d }) => ({ ...d, tenant: { id: tenantId, region: 'eu' } }));
  for (const d of docs) await container.items.create(d);
  engine.use(splitName());
  const before = await readAll<Doc>(container);
  await ensurePreimages(container);
  const store = container.database.container(preimagesContainerName(container.id));
  const { resource: definition } = await store.read();
  expect(definition!.partitionKey!.paths).toEqual(['/tenant/id']);

  const { result } = await runRange(
    engine.deps,
    rangeInput(container, 'split-name', await wholeRange(container), { preimages: true })
  );
  expect(result.preimagesWritten).toBe(40);
  // Point reads with the document's own partition key value find every pre-image.
  for (const d of docs) {
    const { resource } = await store.item(preimageId('split-name', d.id), d.tenant.id).read<StoredPreimage>();
    expect(resource).toMatchObject({ docId: d.id, tenant: { id: d.tenant.id } });
    expect(resource!.image).toEqual(withoutSystem(before.get(d.id)));
  }

  const revert: RevertResult = await new MockActivityEnvironment().run(revertFromPreimages, engine.deps, {
    database: container.database.id,
    container: container.id,
    migration: 'split-name',
    source: { kind: 'preimages' },
    feedRange: await wholeRange(container),
  } satisfies RevertInput);
  expect(revert.counters).toMatchObject({ scanned: 40, reverted: 40, failed: 0 });
  const after = await readAll<Doc>(container);
  for (const [id, doc] of before) expect(withoutSystem(after.get(id))).toEqual(withoutSystem(doc));
});

test('a 429 storm on the pre-images container alone (RU model, 300 RU/s): replaces wait for their pre-images, every document migrated once with its pre-image', async () => {
  const transforms = new Map<string, number>();
  const migration = splitName({
    up(doc: Doc) {
      transforms.set(doc.id, (transforms.get(doc.id) ?? 0) + 1);
      const [first, ...rest] = doc.name!.split(' ');
      const next: Doc = { ...doc, firstName: first, lastName: rest.join(' ') };
      delete next.name;
      return next;
    },
  });
  const docs = customers(300, 0, () => ({ notes: 'n'.repeat(600) }));
  const { container, range } = await setup(docs, migration);
  const { name } = await ensurePreimages(container);
  const control = engine.stack.cosmos.control;
  const throttledBefore = control.stats().throttled;
  control.setRuModel(true, { defaultThroughput: 100_000 });
  control.setThroughput(container.database.id, name, 300);
  const started = Date.now();
  let result;
  try {
    ({ result } = await runRange(engine.deps, rangeInput(container, 'split-name', range, { preimages: true })));
  } finally {
    control.setRuModel(false);
  }
  console.log(
    `pre-images container at 300 RU/s: ${result.counters.migrated} documents in ${((Date.now() - started) / 1000).toFixed(1)} s, ` +
      `${result.preimagesWritten} pre-images, ${control.stats().throttled - throttledBefore} requests throttled`
  );
  expect(control.stats().throttled).toBeGreaterThan(throttledBefore);
  expect(result.counters).toMatchObject({ migrated: 300, failed: 0 });
  expect(result.preimagesWritten).toBe(300);
  expect([...transforms.values()].every((n) => n === 1)).toBe(true);
  const preimages = await preimagesOf(container);
  const after = await readAll<Doc>(container);
  expect(preimages.size).toBe(300);
  for (const [id, doc] of after) expect(withoutSystem(doc)).toEqual(expectedUp(preimages.get(id)!.image));
}, 120_000);

test('the pre-images container is created with the throughput the run asks for (its own, not a default)', async () => {
  const container = await freshContainer(engine.deps);
  const activities = createEngineActivities(engine.deps);
  const made = await activities.ensurePreimagesContainer({
    database: container.database.id,
    container: container.id,
    throughput: 500,
  });
  expect(made.created).toBe(true);
  const exported = await activities.exportContainer({ database: container.database.id, container: made.name });
  expect(exported?.throughput).toBe(500);
});
