/**
 * The partitioned-migration scenario shared by test/workflow/partitions.test.ts (5 000 documents, default suite) and
 * test/scale/ (200 000, `npm run test:scale`): a container created through ARM with a throughput that gives it P
 * physical partitions, seeded; a run started with `temporal workflow start`; an application writing all along; the
 * throughput raised through ARM once the migration has written its first documents (ranges split in the background,
 * while the workflow migrates them); then every document checked.
 */
import { BulkOperationType, type Container, type OperationInput } from '@azure/cosmos';
import { FINAL_PHASES } from '../../common/phases';
import type { RunbookReport } from '../../common/report';
import { statusQuery } from '../../workflows/messages';
import { isThrottled, statusOf } from '../../activities/cosmos/requests';
import { Harness, temporalCli } from './harness';

export interface ScenarioOptions {
  docs: number;
  initialThroughput: number;
  raisedThroughput: number;
  /** The migration's id (and module file name). */
  id: string;
  ruBudget?: number;
  concurrency?: number;
  batchSize?: number;
  /**
   * Milliseconds each of the application's two writers rests after a write. Unpaced (0), the writers take most of the
   * test process's one CPU (the emulator, the worker and the application share it) and the run's time is the
   * application's; a few milliseconds keep hundreds of writes a second racing the migration.
   */
  appPauseMs?: number;
}

export interface ScenarioResult {
  report: RunbookReport;
  rangesBefore: number;
  rangesAfter: number;
  /** N: documents seeded plus those the application created. */
  total: number;
  appWrites: number;
  /** Ids whose counter field is not exactly 1 (first 20) and how many. */
  notMigratedOnce: string[];
  /** Ids whose application counter differs from what the application wrote (first 20). */
  appWritesLost: string[];
  splitNotes: number;
  summary: Record<string, number | string>;
}

const MODULE = (id: string, database: string) => `module.exports = {
  id: ${JSON.stringify(id)},
  description: 'split name, counting its own applications',
  database: ${JSON.stringify(database)},
  container: 'customers',
  fromVersion: 1,
  toVersion: 2,
  up(doc) {
    const out = { ...doc, migratedTimes: (doc.migratedTimes || 0) + 1, schemaVersion: 2 };
    if (typeof doc.name === 'string') {
      const [first, ...rest] = doc.name.split(' ');
      out.first = first;
      out.last = rest.join(' ');
      delete out.name;
    }
    return out;
  },
  verify(doc) {
    return doc.migratedTimes === 1 || 'migratedTimes is ' + doc.migratedTimes;
  },
};
`;

type Customer = { id: string; tenant: string; name?: string; appWrites?: number; migratedTimes?: number };

async function bulkUpsert(container: Container, docs: Customer[]): Promise<void> {
  const ops: OperationInput[] = docs.map((d) => ({
    operationType: BulkOperationType.Upsert,
    partitionKey: d.tenant,
    resourceBody: d as never,
  }));
  for (;;) {
    try {
      const res = await container.items.bulk(ops);
      const bad = res.filter((r) => r.statusCode >= 300);
      if (bad.length === 0) return;
      if (bad.some((r) => r.statusCode !== 429)) throw new Error(`seed: upsert failed with ${bad[0]!.statusCode}`);
      // Per-operation 429: upsert is idempotent, send the whole request again after the retry-after.
      await new Promise((r) => setTimeout(r, 100));
    } catch (err) {
      if (!isThrottled(err)) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function seed(container: Container, n: number): Promise<void> {
  const parallel = 3;
  let next = 0;
  const worker = async () => {
    for (;;) {
      const start = next;
      next += 100;
      if (start >= n) return;
      const docs = Array.from({ length: Math.min(100, n - start) }, (_, k) => {
        const i = start + k;
        return { id: `c-${i}`, tenant: `t${i}`, name: `First${i} Last${i}` };
      });
      await bulkUpsert(container, docs);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/**
 * The application: two writers, each reading a random document and replacing it with `appWrites + 1` (conditioned
 * on its _etag, retried on 412 and 429, at the default High priority). It keeps the version it read, so it never
 * puts a document back at the old version and each document is migrated once. (An application that creates
 * documents at the old version after the final pass leaves them to verification, which fails the run: that is
 * test/engine/partitions.test.ts's bounded final pass, not this scenario.)
 */
function startApplication(container: Container, n: number, pauseMs: number) {
  const expected = new Map<string, number>();
  let stopped = false;
  let writes = 0;
  const retryable = (err: unknown) => statusOf(err) === 412 || isThrottled(err);
  async function writer() {
    while (!stopped) {
      try {
        const i = Math.floor(Math.random() * n);
        const id = `c-${i}`;
        for (;;) {
          const { resource } = await container.item(id, `t${i}`).read<Customer & { _etag: string }>();
          const next = (resource!.appWrites ?? 0) + 1;
          try {
            await container
              .item(id, `t${i}`)
              .replace(
                { ...resource!, appWrites: next },
                { accessCondition: { type: 'IfMatch', condition: resource!._etag } }
              );
            expected.set(id, next);
            writes += 1;
            if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
            break;
          } catch (err) {
            if (!retryable(err)) throw err;
          }
        }
      } catch (err) {
        if (!retryable(err)) throw err;
      }
    }
  }
  const loops = [writer(), writer()];
  return {
    expected,
    get writes() {
      return writes;
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

async function rangeCount(container: Container): Promise<number> {
  const { resources } = await container.readPartitionKeyRanges().fetchAll();
  return resources.length;
}

export async function runPartitionScenario(h: Harness, o: ScenarioOptions): Promise<ScenarioResult> {
  const database = `db${o.id.replace(/[^a-z0-9]/gi, '').slice(-10)}`;
  const { resourceGroup, account } = h.stack.settings;
  const poll = { updateIntervalInMs: 50 };
  // The account as docs/production.md recommends it for a migration: priority-based execution on (the emulator starts
  // with Azure's default, off). The scenario was written with it on: its budget follows the work, so ranges are still
  // in flight when the split lands (with it off, a run here saw no range replaced by its children).
  await h.arm.databaseAccounts.beginUpdateAndWait(resourceGroup, account, { enablePriorityBasedExecution: true }, poll);
  await h.arm.sqlResources.beginCreateUpdateSqlDatabaseAndWait(
    resourceGroup,
    account,
    database,
    { resource: { id: database }, options: {} },
    poll
  );
  await h.arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
    resourceGroup,
    account,
    database,
    'customers',
    {
      resource: { id: 'customers', partitionKey: { paths: ['/tenant'], kind: 'Hash' } },
      options: { throughput: o.initialThroughput },
    },
    poll
  );
  const container = h.cosmos.database(database).container('customers');
  const seedStarted = Date.now();
  await seed(container, o.docs);
  const seedSeconds = (Date.now() - seedStarted) / 1000;
  const rangesBefore = await rangeCount(container);
  const goneBefore = h.stack.cosmos.control.stats().partitionKeyRangeGone;

  h.writeMigration(`${o.id}.js`, MODULE(o.id, database));
  const w = await h.worker();
  const workflowId = `partitions-${o.id}`;
  let report!: RunbookReport;
  let app!: ReturnType<typeof startApplication>;
  const started = Date.now();
  await w.worker.runUntil(async () => {
    const input = {
      migration: o.id,
      approval: { required: false },
      monitor: { duration: '1s', interval: '1s' },
      batchSize: o.batchSize ?? 100,
      concurrency: o.concurrency ?? 4,
      verifySampleSize: 50,
      ...(o.ruBudget ? { ruBudget: o.ruBudget } : {}),
    };
    await temporalCli([
      'workflow',
      'start',
      '--type',
      'migrationRunbook',
      '--task-queue',
      w.taskQueue,
      '--workflow-id',
      workflowId,
      '--input',
      JSON.stringify(input),
    ]);
    const handle = h.client.workflow.getHandle(workflowId);
    app = startApplication(container, o.docs, o.appPauseMs ?? 0);
    // Raise the throughput once the migration has begun: the ranges split (500 ms after the ARM operation ends)
    // while the workflow migrates them, or before it starts some of them.
    for (;;) {
      const status = await handle.query(statusQuery).catch(() => undefined);
      if (status && status.phase === 'migrating') break;
      if (status && ['completed', 'failed', 'paused'].includes(status.phase)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await h.arm.sqlResources.beginUpdateSqlContainerThroughputAndWait(
      resourceGroup,
      account,
      database,
      'customers',
      { resource: { throughput: o.raisedThroughput } },
      poll
    );
    // A run that pauses waits for an operator: fail with its status instead of waiting for a result that never comes.
    let paused: string | undefined;
    const watch = (async () => {
      for (;;) {
        const status = await handle.query(statusQuery).catch(() => undefined);
        if (!status || FINAL_PHASES.includes(status.phase)) return;
        if (['paused', 'rolling-back', 'rollback-failed'].includes(status.phase)) {
          paused = `run paused: ${status.lastError ?? ''} ${JSON.stringify(status.counters)}`;
          return;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    await watch;
    await app.stop();
    if (paused) {
      await handle.terminate('test: paused').catch(() => undefined);
      throw new Error(paused);
    }
    report = (await handle.result()) as RunbookReport;
  });
  const seconds = (Date.now() - started) / 1000;

  // Every document, a projection of the counters only (200 000 full documents would be the test's own memory).
  const notMigratedOnce: string[] = [];
  const appWritesLost: string[] = [];
  let total = 0;
  let wrongCount = 0;
  const iterator = container.items.query<Customer & { schemaVersion?: number }>(
    'SELECT c.id, c.migratedTimes, c.appWrites, c.schemaVersion FROM c',
    { maxItemCount: 5000 }
  );
  while (iterator.hasMoreResults()) {
    for (const d of (await iterator.fetchNext()).resources ?? []) {
      total += 1;
      if (d.migratedTimes !== 1 || d.schemaVersion !== 2) {
        wrongCount += 1;
        if (notMigratedOnce.length < 20) notMigratedOnce.push(`${d.id}: ${d.migratedTimes}`);
      }
      if ((d.appWrites ?? 0) !== (app.expected.get(d.id) ?? 0) && appWritesLost.length < 20) {
        appWritesLost.push(`${d.id}: ${d.appWrites} != ${app.expected.get(d.id)}`);
      }
    }
  }
  const splitNotes = report.timeline.filter((t) => t.note?.includes('feed range split')).length;
  const c = report.counters;
  return {
    report,
    rangesBefore,
    rangesAfter: await rangeCount(container),
    total,
    appWrites: app.writes,
    notMigratedOnce: wrongCount > 0 ? [`${wrongCount} wrong`, ...notMigratedOnce] : [],
    appWritesLost,
    splitNotes,
    summary: {
      documents: total,
      seeded: o.docs,
      appWrites: app.writes,
      scanned: c.scanned,
      scannedPerDocument: Math.round((c.scanned / total) * 1000) / 1000,
      migratedCounted: c.migrated,
      conflicts: c.conflicts,
      rewrittenByApp: c.rewrittenByApp ?? 0,
      ruConsumed: Math.round(c.ruConsumed),
      rangesBefore,
      splitNotes,
      partitionKeyRangeGone: h.stack.cosmos.control.stats().partitionKeyRangeGone - goneBefore,
      seedSeconds: Math.round(seedSeconds),
      runSeconds: Math.round(seconds),
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    },
  };
}
