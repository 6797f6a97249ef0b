/**
 * Throttling: a 429 storm from the emulator's RU model (small provisioned throughput) and from fault injection.
 * The migration completes with every document migrated exactly once, and its measured consumption stays within
 * the RU budget (consumed RU / elapsed ≤ budget × 1.2).
 */
import type { Container } from '@azure/cosmos';
import { rangeInput, readAll, runRange, startEngineStack, type EngineStack, countedRange } from './support';
import type { MigrationDocument } from '../../common/migration';

type Doc = MigrationDocument & { tenantId: string; n: number; touched?: number };

let engine: EngineStack;

/** Documents of about half a KB, so writes cost a few RU each. */
const sized = (i: number) => ({ n: i, payload: 'x'.repeat(400) });

beforeAll(async () => {
  engine = await startEngineStack();
  engine.stack.cosmos.control.setRuModel(true, { defaultThroughput: 100_000 });
}, 120_000);

afterEach(() => {
  engine.stack.cosmos.control.setFaults([]);
});

afterAll(async () => {
  await engine?.close();
});

async function expectAllMigratedOnce(container: Container, n: number, transforms: Map<string, number>): Promise<void> {
  const after = await readAll<Doc>(container);
  expect(after.size).toBe(n);
  for (const doc of after.values()) {
    expect(doc.schemaVersion).toBe(2);
    expect(doc.touched).toBe(1);
  }
  // A re-transform after a 412 would be legitimate; here nobody else writes, so each document is transformed once.
  expect([...transforms.values()].every((c) => c === 1)).toBe(true);
}

test('a 429 storm from the RU model (400 RU/s provisioned, 600 RU/s budget): completes, every document migrated once', async () => {
  const { container, range, transforms } = await countedRange(engine, 400, sized);
  engine.stack.cosmos.control.setThroughput(container.database.id, container.id, 400);
  const budget = 600; // more than the container has: the server throttles, the engine backs off

  const started = Date.now();
  const { result } = await runRange(engine.deps, rangeInput(container, 'touch', range, { ruBudget: budget }));
  const seconds = (Date.now() - started) / 1000;
  const rate = result.counters.ruConsumed / seconds;

  console.log(
    `RU model 400 RU/s, budget ${budget} RU/s: ${result.counters.migrated} docs in ${seconds.toFixed(1)} s, ` +
      `${result.counters.ruConsumed.toFixed(0)} RU = ${rate.toFixed(0)} RU/s`
  );
  expect(result.counters).toMatchObject({ migrated: 400, failed: 0 });
  await expectAllMigratedOnce(container, 400, transforms);
  expect(rate).toBeLessThanOrEqual(budget * 1.2);
});

test('an RU budget is respected: consumed RU / elapsed ≤ budget × 1.2 (measured)', async () => {
  const { container, range, transforms } = await countedRange(engine, 700, sized);
  const budget = 1000;

  const started = Date.now();
  const { result } = await runRange(engine.deps, rangeInput(container, 'touch', range, { ruBudget: budget }));
  const seconds = (Date.now() - started) / 1000;
  const rate = result.counters.ruConsumed / seconds;

  console.log(
    `budget ${budget} RU/s on 100000 RU/s provisioned: ${result.counters.migrated} docs, ${result.counters.ruConsumed.toFixed(0)} RU ` +
      `in ${seconds.toFixed(1)} s = ${rate.toFixed(0)} RU/s (activity's own figure ${result.ruPerSecond.toFixed(0)} RU/s)`
  );
  expect(result.counters.migrated).toBe(700);
  expect(result.counters.ruConsumed).toBeGreaterThan(budget * 2); // long enough for the rate to mean something
  expect(rate).toBeLessThanOrEqual(budget * 1.2);
  expect(rate).toBeGreaterThan(budget * 0.5); // and the budget is used, not wasted
  await expectAllMigratedOnce(container, 700, transforms);
});

test('injected 429s on bulk writes and queries: completes, every document migrated once, budget respected', async () => {
  const { container, range, transforms } = await countedRange(engine, 500, sized);
  engine.stack.cosmos.control.setFaults([{ kinds: ['batch', 'query'], throttleProbability: 0.3, retryAfterMs: 50 }]);
  const budget = 1200;

  const started = Date.now();
  const { result } = await runRange(engine.deps, rangeInput(container, 'touch', range, { ruBudget: budget }));
  const seconds = (Date.now() - started) / 1000;
  engine.stack.cosmos.control.setFaults([]);
  const rate = result.counters.ruConsumed / seconds;

  console.log(
    `30% injected 429s, budget ${budget} RU/s: ${result.counters.migrated} docs in ${seconds.toFixed(1)} s, ${rate.toFixed(0)} RU/s`
  );
  expect(result.counters).toMatchObject({ migrated: 500, failed: 0 });
  expect(rate).toBeLessThanOrEqual(budget * 1.2);
  await expectAllMigratedOnce(container, 500, transforms);
});

test('partial bulk throttling (207: some operations written, the rest 429 with a retry-after): exactly the throttled ones sent again, every document migrated once, the RU booked = the RU the emulator charged', async () => {
  const { container, range, transforms } = await countedRange(engine, 400, sized);
  const control = engine.stack.cosmos.control;
  expect(control.partialBulkThrottling()).toBe(true); // Azure's behaviour, the emulator's default
  // 300 RU/s for a 600 RU/s budget: bulks of ~100 writes of ~2.5 KB-equivalents are paid only in part.
  control.setThroughput(container.database.id, container.id, 300);
  const before = control.stats();

  const { result } = await runRange(engine.deps, rangeInput(container, 'touch', range, { ruBudget: 600 }));

  const after = control.stats();
  const charged = after.byPriority.Low.requestCharge - before.byPriority.Low.requestCharge;
  const throttledOperations = after.throttledOperations - before.throttledOperations;
  console.log(
    `partial bulk throttling at 300 RU/s: ${throttledOperations} operations throttled, ` +
      `${after.throttled - before.throttled} requests refused whole; RU booked ${result.counters.ruConsumed.toFixed(1)}, ` +
      `charged at the emulator ${charged.toFixed(1)}`
  );
  expect(throttledOperations).toBeGreaterThan(0);
  expect(result.counters).toMatchObject({ migrated: 400, failed: 0 });
  await expectAllMigratedOnce(container, 400, transforms);
  // Every request of the migration is sent at Low priority: what the emulator charged at Low is what it booked.
  expect(charged).toBeGreaterThan(400 * 5);
  expect(result.counters.ruConsumed).toBeCloseTo(charged, 0);
});
