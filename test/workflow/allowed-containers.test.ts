/**
 * COSMOS_RUNBOOK_ALLOWED_CONTAINERS: whoever can start workflows cannot aim this worker at a
 * container its configuration does not name — not with the input's database/container overrides (refused in preflight,
 * naming the container and the setting, before any container is touched) and not by starting rollbackRunbook directly
 * with another target (every activity refuses; the container keeps its documents).
 */
import { randomUUID } from 'node:crypto';
import { parseAllowedContainers } from '../../common/allowed-containers';
import { ErrorType } from '../../common/errors';
import { tuningSchema } from '../../common/tuning';
import { migrationRunbook, rollbackRunbook } from '../../workflows';
import { loadWorkerConfig } from '../../worker/config';
import { createRunbookWorker } from '../../worker/create-worker';
import { customers, Harness, splitNameModule } from './harness';
import { uniqueTaskQueue } from '../support/temporal';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

test('patterns: database/container with * inside either name; anything else is one problem naming it', () => {
  const { allowed } = parseAllowedContainers('shop/customers, shop/orders-* staging-*/*');
  expect(allowed!.allows('shop', 'customers')).toBe(true);
  expect(allowed!.allows('shop', 'orders-2026')).toBe(true);
  expect(allowed!.allows('staging-eu', 'anything')).toBe(true);
  expect(allowed!.allows('shop', 'customers-preimages')).toBe(false);
  expect(allowed!.allows('shop', 'payments')).toBe(false);
  expect(allowed!.allows('shopx', 'customers')).toBe(false);
  expect(parseAllowedContainers('shop/c.+').allowed!.allows('shop', 'cc')).toBe(false); // no regex, only *
  expect(parseAllowedContainers('customers, /x, a/b/c').problems).toEqual([
    '"customers" is not database/container (a * may stand for any part of either name)',
    '"/x" is not database/container (a * may stand for any part of either name)',
    '"a/b/c" is not database/container (a * may stand for any part of either name)',
  ]);
});

test('the worker refuses to start on a malformed list, naming the setting', () => {
  const env = {
    COSMOS_RUNBOOK_STACK_ENV: 'off',
    COSMOS_ENDPOINT: 'https://127.0.0.1:8081/',
    ARM_ENDPOINT: 'https://127.0.0.1:8443',
    TEMPORAL_ADDRESS: '127.0.0.1:7233',
    AZURE_SUBSCRIPTION_ID: 's',
    AZURE_RESOURCE_GROUP: 'g',
    COSMOS_ACCOUNT: 'a',
    COSMOS_RUNBOOK_ALLOWED_CONTAINERS: 'customers',
  };
  expect(() => loadWorkerConfig(env)).toThrow(
    'COSMOS_RUNBOOK_ALLOWED_CONTAINERS: "customers" is not database/container (a * may stand for any part of either name)'
  );
  const config = loadWorkerConfig({ ...env, COSMOS_RUNBOOK_ALLOWED_CONTAINERS: 'shop/*' });
  expect(config.allowedContainers?.patterns).toEqual(['shop/*']);
});

test('overrides and a direct rollback aimed outside the allow-list are refused; nothing is read or changed', async () => {
  const docs = customers(6);
  const allowedTarget = await h.seed(docs);
  const forbidden = await h.seed(docs, { database: allowedTarget.database, container: 'payments' });
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, allowedTarget.database));
  const taskQueue = uniqueTaskQueue('allowed');
  const setting = `${allowedTarget.database}/customers`;
  const { allowed } = parseAllowedContainers(setting);
  const w = await createRunbookWorker(
    { ...h.config(taskQueue), allowedContainers: allowed },
    { workflowBundle: h.bundle }
  );
  h.workers.push(w);
  await w.worker.runUntil(async () => {
    // The override to another container of the same database: refused in preflight, naming both.
    const cause = await h.expectRunFailure(taskQueue, {
      migration: id,
      container: 'payments',
      approval: { required: false },
    });
    expect(cause.type).toBe(ErrorType.ContainerNotAllowed);
    expect(cause.message).toBe(
      `loadMigration: container ${forbidden.database}/payments is not allowed on this worker: ` +
        `COSMOS_RUNBOOK_ALLOWED_CONTAINERS is "${setting}"; nothing was read or changed ` +
        "(add the container to the worker's setting to allow it)"
    );
    // ... and to another database.
    const otherDb = await h.expectRunFailure(taskQueue, { migration: id, database: 'elsewhere' });
    expect(otherDb.message).toContain('container elsewhere/customers is not allowed on this worker');

    // The rollback child started on its own, aimed at the forbidden container by restore (delete + restore).
    const rollback = await h.client.workflow.execute(rollbackRunbook, {
      taskQueue,
      workflowId: `aimed-${randomUUID()}`,
      args: [
        {
          parentWorkflowId: 'none',
          migration: {
            id,
            description: 'split name',
            database: forbidden.database,
            container: 'payments',
            checksum: 'x',
            versionField: 'schemaVersion',
            hasUp: true,
            hasDown: false,
            hasVerify: false,
            migratesDocuments: true,
            relationships: [],
            queries: [],
          },
          direction: 'up',
          mode: 'restore',
          reason: 'aimed elsewhere',
          // What a run of the forbidden container would have recorded: its definition and a T0 before now.
          exported: {
            database: forbidden.database,
            container: 'payments',
            resource: { id: 'payments', partitionKey: { paths: ['/tenant'], kind: 'Hash' } },
            exportedAt: new Date().toISOString(),
          },
          snapshot: { t0: new Date(Date.now() - 1000).toISOString(), documentCount: 6, countsByVersion: {} },
          batchSize: 10,
          concurrency: 1,
          maxFailures: 0,
          verifySampleSize: 0,
          requireRestoreApproval: false,
          approvalTimeout: '1m',
          allowRestoreWithoutAppStop: true,
          tuning: tuningSchema.parse({}),
        },
      ],
    });
    expect(rollback.ok).toBe(false);
    expect(rollback.problems.join('\n')).toContain(
      `container ${forbidden.database}/payments is not allowed on this worker`
    );

    // The allowed target goes through preflight and plans (a dry run writes nothing).
    const dry = await h.client.workflow.execute(migrationRunbook, {
      taskQueue,
      workflowId: `dry-${randomUUID()}`,
      args: [{ migration: id, dryRun: true, approval: { required: false } }],
    });
    expect(dry.status).toBe('dry-run');
  });
  expect(await h.documents(forbidden.database, 'payments')).toEqual(docs);
  expect(await h.documents(allowedTarget.database, 'customers')).toEqual(docs);
}, 240_000);
