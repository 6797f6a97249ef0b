/**
 * `npm run bench`: what the engine's design buys, as ratios measured in one run on the in-process local stack
 * (Cosmos emulator over HTTPS through @azure/cosmos; no Temporal needed). Absolute numbers depend on the machine;
 * the ratios are what to compare. Prints a table and writes bench/results/latest.json.
 *
 *   1. engine vs naive: the engine's migrateRange (paged, bulk, ETag-conditioned, concurrent, over every feed range)
 *      against a migrate-mongo-style loop (query everything, replace one document at a time) on the same documents.
 *   2. RU budget adherence: migrateRange with a budget, under the emulator's RU model; measured RU/s ÷ budget.
 *   3. concurrent-writer safety: bulk replaces conditioned on _etag (ifMatch) vs the same bulk unconditioned.
 *
 * BENCH_DOCS (default 2000) sets the document count.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BulkOperationType,
  type Container,
  type CosmosClient,
  type JSONObject,
  type OperationInput,
} from '@azure/cosmos';
import { createArmClient, createCosmosClient } from '../activities/clients';
import { listFeedRanges } from '../activities/cosmos/feed-ranges';
import { migrateRange } from '../activities/cosmos/migrate-range';
import type { ActivityDeps } from '../activities/deps';
import { loadRegistry } from '../activities/registry';
import type { MigrationCounters } from '../common/activities';
import { addCounters, zeroCounters } from '../common/counters';
import { startStack } from '../local/stack';
import { azureSettingsFromStackEnv } from '../local/stack-env';
import { addTier } from './migrations/bench-add-tier';

const DOCS = Number(process.env.BENCH_DOCS ?? 2000);
const DATABASE = 'bench';
const MIGRATION = 'bench-add-tier';
const RESULTS = path.join(__dirname, 'results', 'latest.json');

type Doc = { id: string; [field: string]: unknown };

function document(i: number): Doc {
  return {
    id: `c-${String(i).padStart(6, '0')}`,
    tenantId: `t-${i % 16}`,
    name: `Customer ${i}`,
    email: `customer${i}@example.test`,
    orders: (i * 7) % 97,
    address: { street: `${i} Main Street`, city: 'Springfield', zip: String(10000 + (i % 9000)) },
    notes: 'x'.repeat(200),
    schemaVersion: 1,
  };
}

async function freshContainer(cosmos: CosmosClient, name: string, docs: number): Promise<Container> {
  const { database } = await cosmos.databases.createIfNotExists({ id: DATABASE });
  await database
    .container(name)
    .delete()
    .catch(() => undefined);
  const { container } = await database.containers.create({ id: name, partitionKey: { paths: ['/tenantId'] } });
  for (let start = 0; start < docs; start += 100) {
    const operations: OperationInput[] = [];
    for (let i = start; i < Math.min(docs, start + 100); i++) {
      operations.push({
        operationType: BulkOperationType.Create,
        resourceBody: document(i) as unknown as JSONObject,
      });
    }
    await container.items.bulk(operations);
  }
  return container;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = process.hrtime.bigint();
  const value = await fn();
  return { value, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** The engine, as the workflow drives it: one migrateRange per feed range, all at once. */
async function engineMigrate(deps: ActivityDeps, container: string, ruBudget?: number): Promise<MigrationCounters> {
  const ranges = await listFeedRanges(deps.cosmos.database(DATABASE).container(container));
  const results = await Promise.all(
    ranges.map((feedRange) =>
      migrateRange(deps, {
        migration: MIGRATION,
        direction: 'up',
        database: DATABASE,
        container,
        feedRange,
        batchSize: 100,
        ruBudget: ruBudget !== undefined ? ruBudget / ranges.length : undefined,
        maxFailures: 0,
        dryRun: false,
      })
    )
  );
  return results.reduce((total: MigrationCounters, r) => addCounters(total, r.counters), zeroCounters());
}

/** What migrate-mongo-style tools do: read everything, then one awaited replace per document. */
async function naiveMigrate(container: Container): Promise<number> {
  const { resources } = await container.items.query<Doc>('SELECT * FROM c').fetchAll();
  let migrated = 0;
  for (const doc of resources) {
    if (doc.schemaVersion !== 1) continue;
    await container.item(doc.id, doc.tenantId as string).replace({ ...addTier(doc), schemaVersion: 2 });
    migrated++;
  }
  return migrated;
}

/** Bulk replaces of every document, 100 per call, `concurrency` calls in flight; with or without ifMatch. */
async function bulkReplaceAll(container: Container, conditioned: boolean, concurrency = 4): Promise<number> {
  const { resources } = await container.items.query<Doc>('SELECT * FROM c').fetchAll();
  const chunks: Doc[][] = [];
  for (let i = 0; i < resources.length; i += 100) chunks.push(resources.slice(i, i + 100));
  let next = 0;
  let written = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!;
        const operations: OperationInput[] = chunk.map((doc) => ({
          operationType: BulkOperationType.Replace,
          id: doc.id,
          partitionKey: doc.tenantId as string,
          resourceBody: { ...addTier(doc), schemaVersion: 2 },
          ...(conditioned ? { ifMatch: doc._etag as string } : {}),
        }));
        const responses = await container.items.bulk(operations, { continueOnError: true });
        const failed = responses.filter((r) => r.statusCode >= 300);
        if (failed.length)
          throw new Error(`bulk replace: ${failed.length} operations failed (status ${failed[0]!.statusCode})`);
        written += chunk.length;
      }
    })
  );
  return written;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

interface Row {
  benchmark: string;
  measured: string;
  ratio: string;
}

async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmos-runbook-bench-'));
  const stack = await startStack({
    dir,
    cosmosPort: 0,
    armPort: 0,
    // The engine talks to Cosmos only; no Temporal server is needed or started.
    temporal: { mode: 'existing', address: 'unused:0' },
  });
  const settings = azureSettingsFromStackEnv(stack.env);
  const cosmos = createCosmosClient(settings);
  const deps: ActivityDeps = {
    cosmos,
    arm: createArmClient(settings),
    account: { subscriptionId: settings.subscriptionId, resourceGroup: settings.resourceGroup, name: settings.account },
    registry: await loadRegistry(path.join(__dirname, 'migrations')),
    hooks: {},
    control: { historyContainer: 'migrations-history', leaseContainer: 'migrations-leases' },
    armPollIntervalMs: 50,
  };
  const rows: Row[] = [];
  const results: Record<string, unknown> = {
    docs: DOCS,
    node: process.version,
    cpus: os.cpus().length,
    at: new Date().toISOString(),
  };
  try {
    // 1. engine vs naive, RU model off (raw speed; every request charged 1 RU).
    stack.cosmos.control.setRuModel(false);
    log(`seeding 2 × ${DOCS} documents ...`);
    await freshContainer(cosmos, 'bench-engine', DOCS);
    const naiveContainer = await freshContainer(cosmos, 'bench-naive', DOCS);
    log('engine: migrateRange over every feed range ...');
    const engine = await timed(() => engineMigrate(deps, 'bench-engine'));
    log('naive: query all, replace one by one ...');
    const naive = await timed(() => naiveMigrate(naiveContainer));
    if (engine.value.migrated !== DOCS || naive.value !== DOCS) {
      throw new Error(`expected ${DOCS} migrated each; engine ${engine.value.migrated}, naive ${naive.value}`);
    }
    const engineRate = DOCS / engine.seconds;
    const naiveRate = DOCS / naive.seconds;
    rows.push(
      { benchmark: 'engine migrateRange (bulk, ifMatch)', measured: `${engineRate.toFixed(0)} docs/s`, ratio: '' },
      { benchmark: 'naive loop (sequential replace)', measured: `${naiveRate.toFixed(0)} docs/s`, ratio: '' },
      { benchmark: 'engine ÷ naive', measured: '', ratio: `${(engineRate / naiveRate).toFixed(2)}×` }
    );
    results.engineVsNaive = {
      engineDocsPerSecond: engineRate,
      naiveDocsPerSecond: naiveRate,
      ratio: engineRate / naiveRate,
      engineSeconds: engine.seconds,
      naiveSeconds: naive.seconds,
    };

    // 3. ifMatch overhead, RU model off.
    const conditionedContainer = await freshContainer(cosmos, 'bench-ifmatch', DOCS);
    const plainContainer = await freshContainer(cosmos, 'bench-plain', DOCS);
    log('bulk replace with ifMatch vs without (3 alternating rounds, median) ...');
    const conditionedTimes: number[] = [];
    const plainTimes: number[] = [];
    for (let round = 0; round < 3; round++) {
      conditionedTimes.push((await timed(() => bulkReplaceAll(conditionedContainer, true))).seconds);
      plainTimes.push((await timed(() => bulkReplaceAll(plainContainer, false))).seconds);
    }
    const conditioned = { seconds: median(conditionedTimes) };
    const plain = { seconds: median(plainTimes) };
    const overhead = conditioned.seconds / plain.seconds;
    rows.push(
      {
        benchmark: 'bulk replace, ifMatch (_etag)',
        measured: `${(DOCS / conditioned.seconds).toFixed(0)} docs/s`,
        ratio: '',
      },
      { benchmark: 'bulk replace, unconditioned', measured: `${(DOCS / plain.seconds).toFixed(0)} docs/s`, ratio: '' },
      { benchmark: 'ifMatch time ÷ unconditioned time', measured: '', ratio: `${overhead.toFixed(2)}×` }
    );
    results.ifMatchOverhead = {
      conditionedDocsPerSecond: DOCS / conditioned.seconds,
      unconditionedDocsPerSecond: DOCS / plain.seconds,
      timeRatio: overhead,
    };

    // 2. RU budget adherence, RU model on: calibrate RU per document, then give a budget that needs ~8 s.
    stack.cosmos.control.setRuModel(true);
    const budgetDocs = Math.min(DOCS, 1000);
    await freshContainer(cosmos, 'bench-calibrate', 200);
    const calibration = await engineMigrate(deps, 'bench-calibrate');
    const ruPerDoc = calibration.ruConsumed / Math.max(1, calibration.migrated);
    const budget = Math.max(50, Math.round((ruPerDoc * budgetDocs) / 8));
    await freshContainer(cosmos, 'bench-budget', budgetDocs);
    log(`RU budget: ${budgetDocs} documents at ${budget} RU/s (${ruPerDoc.toFixed(1)} RU per document) ...`);
    const budgeted = await timed(() => engineMigrate(deps, 'bench-budget', budget));
    const measuredRate = budgeted.value.ruConsumed / budgeted.seconds;
    rows.push(
      { benchmark: 'RU budget given', measured: `${budget} RU/s`, ratio: '' },
      {
        benchmark: 'RU/s measured (response charges)',
        measured: `${measuredRate.toFixed(0)} RU/s over ${budgeted.seconds.toFixed(1)} s`,
        ratio: '',
      },
      { benchmark: 'measured ÷ budget', measured: '', ratio: `${(measuredRate / budget).toFixed(2)}` }
    );
    results.ruBudget = {
      budget,
      measuredRuPerSecond: measuredRate,
      ratio: measuredRate / budget,
      ruPerDocument: ruPerDoc,
      documents: budgeted.value.migrated,
      seconds: budgeted.seconds,
    };
  } finally {
    cosmos.dispose();
    await stack.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const width = [40, 34, 8];
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(width[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(
    [
      `cosmos-runbook bench: ${DOCS} documents, ${os.cpus().length} CPUs, Node ${process.version}`,
      line(['benchmark', 'measured', 'ratio']),
      line(width.map((w) => '-'.repeat(w))),
      ...rows.map((r) => line([r.benchmark, r.measured, r.ratio])),
      '',
    ].join('\n')
  );
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  fs.writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`results: ${path.relative(process.cwd(), RESULTS)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
