/**
 * A migration module written outside the repo (a temp folder, loaded by the registry as the worker would load
 * MIGRATIONS_DIR) migrates 20k documents while the application keeps writing. Afterwards every document is at the
 * target version, transformed exactly once (a field the transform increments equals 1), and every application
 * write is intact. Prints the throughput.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MigrationDocument } from '../../common/migration';
import { loadRegistry } from '../../activities/registry';
import {
  freshContainer,
  rangeInput,
  readAll,
  runRange,
  seed,
  startEngineStack,
  wholeRange,
  type EngineStack,
} from './support';

const DOCS = 20_000;

let engine: EngineStack;

beforeAll(async () => {
  engine = await startEngineStack();
  // RU model on (charges as Cosmos would) with room to spare: this test is about correctness at scale.
  engine.stack.cosmos.control.setRuModel(true, { defaultThroughput: 1_000_000 });
}, 120_000);

afterAll(async () => {
  await engine?.close();
});

type Order = MigrationDocument & {
  tenantId: string;
  total: number;
  currency?: string;
  amount?: { value: number; currency: string };
  transformCount?: number;
  appWrites?: number;
};

test(`${DOCS} documents, a module outside the repo, a concurrent writer: all migrated once, every app write intact`, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'user-migrations-'));
  fs.writeFileSync(
    path.join(dir, '2025-01-orders-amount.ts'),
    `// A user's migration, outside the repo: no import from cosmos-runbook needed.
interface Order { id: string; tenantId: string; total?: number; currency?: string; amount?: { value: number; currency: string }; transformCount?: number; [k: string]: unknown }
export default {
  id: '2025-01-orders-amount',
  description: 'orders: total + currency -> amount { value, currency }',
  database: 'engine',
  container: 'orders',
  fromVersion: 1,
  toVersion: 2,
  up(doc: Order) {
    const { total, currency, ...rest } = doc;
    return { ...rest, amount: { value: total ?? 0, currency: currency ?? 'EUR' }, transformCount: (doc.transformCount ?? 0) + 1 };
  },
  verify(doc: Order) {
    return doc.amount && typeof doc.amount.value === 'number' ? true : 'amount missing';
  },
};
`
  );
  engine.deps.registry = await loadRegistry(dir);
  expect(engine.deps.registry.list().map((m) => m.definition.id)).toEqual(['2025-01-orders-amount']);

  const container = await freshContainer(engine.deps);
  const seedStarted = Date.now();
  await seed(
    container,
    Array.from({ length: DOCS }, (_, i) => ({
      id: `o${i}`,
      tenantId: `t${i % 50}`,
      total: i,
      currency: i % 3 ? 'EUR' : 'USD',
      lines: ['a', 'b'],
    }))
  );
  const seedSeconds = (Date.now() - seedStarted) / 1000;
  const range = await wholeRange(container);

  // The application: ETag-guarded read-modify-write of random orders, counting its own writes in the document.
  const appWrites = new Map<string, number>();
  let stop = false;
  let conflictsSeenByApp = 0;
  const writer = async (loop: number) => {
    let seq = 0;
    while (!stop) {
      seq += 1;
      const i = (seq * 7919 + loop * 15_485_863) % DOCS;
      const item = container.item(`o${i}`, `t${i % 50}`);
      const { resource } = await item.read<Order>();
      const next = (resource!.appWrites ?? 0) + 1;
      try {
        await item.replace(
          { ...resource!, appWrites: next },
          { accessCondition: { type: 'IfMatch', condition: resource!._etag } }
        );
        appWrites.set(`o${i}`, next);
      } catch (err) {
        if ((err as { code?: number }).code !== 412) throw err;
        conflictsSeenByApp += 1;
      }
    }
  };
  const writers = Promise.all([0, 1].map(writer));

  const started = Date.now();
  const { result } = await runRange(
    engine.deps,
    rangeInput(container, '2025-01-orders-amount', range, { batchSize: 1000 })
  );
  const seconds = (Date.now() - started) / 1000;
  stop = true;
  await writers;

  const totalAppWrites = [...appWrites.values()].reduce((a, b) => a + b, 0);
  console.log(
    `${DOCS} docs: seeded in ${seedSeconds.toFixed(1)} s; migrated ${result.counters.migrated} in ${seconds.toFixed(1)} s = ` +
      `${(result.counters.migrated / seconds).toFixed(0)} docs/s, ${result.counters.ruConsumed.toFixed(0)} RU ` +
      `(${(result.counters.ruConsumed / seconds).toFixed(0)} RU/s); ${result.counters.conflicts} conflicts re-read and re-transformed; ` +
      `application: ${totalAppWrites} writes on ${appWrites.size} documents, ${conflictsSeenByApp} of its own 412s`
  );

  expect(result.done).toBe(true);
  expect(result.counters.failed).toBe(0);
  expect(result.counters.migrated).toBe(DOCS);
  const after = await readAll<Order>(container);
  expect(after.size).toBe(DOCS);
  const wrong: string[] = [];
  for (let i = 0; i < DOCS; i += 1) {
    const doc = after.get(`o${i}`)!;
    const ok =
      doc.schemaVersion === 2 &&
      doc.transformCount === 1 &&
      doc.total === undefined &&
      doc.amount?.value === i &&
      doc.amount.currency === (i % 3 ? 'EUR' : 'USD') &&
      doc.appWrites === appWrites.get(`o${i}`);
    if (!ok) wrong.push(doc.id);
  }
  expect(wrong).toEqual([]);
  expect(appWrites.size).toBeGreaterThan(20); // the emulator serves the app between the migration's requests
}, 300_000);
