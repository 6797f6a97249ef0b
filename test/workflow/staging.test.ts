/**
 * Staging parity: `requireStagingRun` also compares the staging and production containers' definitions (partition
 * key, indexing policy, unique keys, TTL, throughput mode) and refuses, listing each difference, unless told to accept.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { migrationRunbook } from '../../workflows';
import { Harness, customers, splitNameModule } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

test('a staging container whose definition differs is refused, each difference named, until accepted', async () => {
  const docs = customers(5);
  const prod = await h.seed(docs);
  const staging = await h.seed(docs);
  // Staging drifted: an excluded path and a TTL production does not have.
  const { resourceGroup, account } = h.stack.settings;
  await h.arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
    resourceGroup,
    account,
    staging.database,
    staging.container,
    {
      resource: {
        id: staging.container,
        partitionKey: { paths: ['/tenant'], kind: 'Hash' },
        indexingPolicy: {
          indexingMode: 'consistent',
          includedPaths: [{ path: '/*' }],
          excludedPaths: [{ path: '/note/?' }],
        },
        defaultTtl: 3600,
      },
      options: {},
    },
    { updateIntervalInMs: 50 }
  );
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, prod.database));
  const w = await h.worker();
  const input = { migration: id, approval: { required: false }, monitor: { duration: '1s', interval: '1s' } };
  await w.worker.runUntil(async () => {
    const stagingRun = await h.client.workflow.execute(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `staging-${randomUUID()}`,
      args: [{ ...input, database: staging.database }],
    });
    expect(stagingRun.status).toBe('completed');

    const refused = await h.client.workflow
      .execute(migrationRunbook, {
        taskQueue: w.taskQueue,
        workflowId: `prod-${randomUUID()}`,
        args: [{ ...input, requireStagingRun: { database: staging.database } }],
      })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowFailedError);
    const message = ((refused as WorkflowFailedError).cause as Error).message;
    expect(message).toContain(
      `requireStagingRun: staging ${staging.database}/${staging.container} differs from production`
    );
    expect(message).toMatch(/indexingPolicy \(production .*, staging .*\/note\/\?.*\)/);
    expect(message).toContain('defaultTtl (production (none), staging 3600)');
    expect(message).not.toContain('partitionKey (');
    expect(message).toContain('acceptDifferences: ["indexingPolicy","defaultTtl"]');
    expect(await h.documents(prod.database, prod.container)).toEqual(docs);

    const accepted = await h.client.workflow.execute(migrationRunbook, {
      taskQueue: w.taskQueue,
      workflowId: `prod-${randomUUID()}`,
      args: [
        {
          ...input,
          requireStagingRun: { database: staging.database, acceptDifferences: ['indexingPolicy', 'defaultTtl'] },
        },
      ],
    });
    expect(accepted.status).toBe('completed');
    expect(accepted.timeline.map((t) => t.note ?? '')).toContainEqual(
      expect.stringMatching(/^staging differs in defaultTtl \(accepted\)/)
    );
  });
});
