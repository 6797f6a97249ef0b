/**
 * The runbook's gates, end to end on the real worker, the local stack and the shared dev server: a run started and
 * approved with the real `temporal` CLI migrates every document; a second run on the same container is refused while
 * the lease on Cosmos holds; too many failed documents pause the run (the paused phase end to end: the failure as the
 * engine reports it, the failed document untouched on Cosmos, resumed from the saved continuations). Abort, an approval timeout and bad input are decided by the phase machine alone:
 * gate-decisions.test.ts, on the fake activities.
 */
import { ErrorType } from '../../common/errors';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { historyToJSON } from '../support/history-json';
import type { RunbookReport } from '../../common/report';
import { migrationRunbook } from '../../workflows';
import { abortSignal, resumeSignal, statusQuery } from '../../workflows/messages';
import { DEFAULT_CONTROL } from '../../worker/create-worker';
import { Harness, MARKER, customers, saveHistory, splitNameModule, temporalCli, waitForPhase } from './harness';
import { decodedHistory, leakedValues } from '../support/payloads';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

const fast = { monitor: { duration: '2s', interval: '1s' }, approval: { timeout: '1m' } };

test('started and approved with the temporal CLI, every document is migrated, verified and recorded', async () => {
  const docs = customers(30);
  const { database, container } = await h.seed(docs);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, database));
  const w = await h.worker();
  const workflowId = `happy-${randomUUID()}`;
  await w.worker.runUntil(async () => {
    const input = { migration: id, ...fast };
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
    const waiting = await waitForPhase(handle, 'awaiting-approval');
    expect(waiting.pendingDecision).toMatchObject({ kind: 'approve', signals: ['approve', 'abort'] });
    expect(waiting.plan?.totalDocuments).toBe(30);
    // Nothing has been written before the approval.
    expect(await h.documents(database, container)).toEqual(docs);

    await temporalCli([
      'workflow',
      'signal',
      '--workflow-id',
      workflowId,
      '--name',
      'approve',
      '--input',
      '{"by":"alice","comment":"CHG-1"}',
    ]);
    const report = (await handle.result()) as RunbookReport;
    expect(report).toMatchObject({ status: 'completed', approvedBy: 'alice', migrationId: id, database, container });
    expect(report.counters).toMatchObject({ scanned: 30, migrated: 30, failed: 0 });
    expect(report.verification?.ok).toBe(true);
    expect(report.snapshot?.documentCount).toBe(30);
    expect(report.timeline.map((t) => t.phase)).toEqual(
      expect.arrayContaining([
        'preflight',
        'awaiting-approval',
        'snapshot',
        'migrating',
        'verifying',
        'monitoring',
        'completed',
      ])
    );
    expect(report.markdown).toContain(`# Migration ${id} (up): Completed and verified`);

    const after = await h.documents(database, container);
    expect(after).toEqual(
      docs.map((d) => {
        const [first, ...rest] = (d.name as string).split(' ');
        const { name: _name, ...others } = d;
        return { ...others, first, last: rest.join(' '), schemaVersion: 2 };
      })
    );
    const status = await handle.query(statusQuery);
    expect(status.phase).toBe('completed');

    const description = await handle.describe();
    expect(description.typedSearchAttributes.get({ name: 'MigrationPhase', type: 'KEYWORD' } as never)).toBe(
      'completed'
    );

    // The history holds ids and counts only, never a document's content.
    const history = await handle.fetchHistory();
    const json = historyToJSON(history);
    expect(decodedHistory(json)).not.toContain(MARKER);
    saveHistory('happy-path-phases.json', json);
  });
});

test('a second run on the same container is refused while the first holds it', async () => {
  const docs = customers(4);
  const { database, container } = await h.seed(docs);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, database));
  const w = await h.worker();
  await w.worker.runUntil(async () => {
    // A short lease renewed every second: still held well after its first TTL.
    const first = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `first-${randomUUID()}`,
      args: [{ migration: id, ...fast, tuning: { leaseTtlSeconds: 5, leaseRenewSeconds: 1 } }],
    });
    await waitForPhase(first, 'awaiting-approval');
    // Held past its first TTL: wait (no fixed sleep) until that first expiry has passed and a renewal moved it on.
    const leases = h.cosmos.database(database).container(DEFAULT_CONTROL.leaseContainer);
    const expiry = async () => {
      const { resources } = await leases.items
        .query<{ expiresAt: string }>({
          query: 'SELECT c.expiresAt FROM c WHERE c.key = @key',
          parameters: [{ name: '@key', value: `${database}/${container}` }],
        })
        .fetchAll();
      return Date.parse(resources[0]!.expiresAt);
    };
    const firstExpiry = await expiry();
    while (!(Date.now() > firstExpiry && (await expiry()) > firstExpiry)) await sleep(200);
    const cause = await h.expectRunFailure(w.taskQueue, { migration: id, ...fast }, `second-${randomUUID()}`);
    expect(cause.type).toBe(ErrorType.ContainerBusy);
    expect(cause.message).toMatch(
      new RegExp(`^container ${database}/${container} is held by workflow ${first.workflowId} until \\d{4}-`)
    );
    await first.signal(abortSignal, {});
    expect((await first.result()).status).toBe('aborted');
    // Released at the end: a new run may take the container.
    const third = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `third-${randomUUID()}`,
      args: [{ migration: id, ...fast }],
    });
    await waitForPhase(third, 'awaiting-approval');
    await third.signal(abortSignal, {});
    expect((await third.result()).status).toBe('aborted');
  });
});

test('too many failed documents pause the run; resume goes on from the saved continuations and completes', async () => {
  const docs = customers(30);
  const { database, container } = await h.seed(docs);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(
    `${id}.js`,
    splitNameModule(id, database, {
      // The message quotes the document, as user code may: the run keeps its id, never its values.
      upExtra: `if (doc.id === 'c-0013') throw new Error('cannot parse name ' + doc.name + ' of ' + doc.id + ' (' + doc.note + ')');`,
    })
  );
  const w = await h.worker();
  await w.worker.runUntil(async () => {
    const handle = await h.client.workflow.start(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `pause-${randomUUID()}`,
      args: [{ migration: id, ...fast, approval: { required: false }, maxFailures: 0, batchSize: 10 }],
    });
    const paused = await waitForPhase(handle, 'paused');
    expect(paused.pendingDecision).toMatchObject({ kind: 'resume-or-rollback', signals: ['resume', 'rollback'] });
    expect(paused.counters.failed).toBe(1);
    expect(paused.lastError).toContain('more than maxFailures (0)');
    expect(paused.lastError).toContain('c-0013: up() threw: cannot parse name ‹value› of c-0013 (‹value›)');

    await handle.signal(resumeSignal);
    const report = await handle.result();
    expect(report.status).toBe('completed');
    // The documents are the truth (the counters of a failed migrateRange can miss pages that were in flight).
    expect(report.counters.failed).toBe(1);
    expect(report.timeline.map((t) => t.phase)).toEqual(expect.arrayContaining(['paused', 'migrating', 'completed']));
    const after = await h.documents(database, container);
    expect(after.filter((d) => d.schemaVersion === 2)).toHaveLength(29);
    // The document that failed is left exactly as it was.
    expect(after.find((d) => d.id === 'c-0013')).toEqual(docs.find((d) => d.id === 'c-0013'));
    // No value of any document in the history, failure messages included (test/support/payloads.ts).
    expect(leakedValues(historyToJSON(await handle.fetchHistory()), docs, ['id', 'tenant'])).toEqual([]);
  });
});
