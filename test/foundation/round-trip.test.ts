/**
 * The shared Temporal dev server of the test run works end to end: a bundled workflow runs an activity on a real
 * worker, and the runbook's custom search attributes are registered (upserted, then found by a visibility query).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import {
  bundleWorkflowCode,
  type NativeConnection,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { COSMOS_CONTAINER, MIGRATION_ID, MIGRATION_PHASE } from '../../common/search-attributes';
import { testClient, testNativeConnection, uniqueTaskQueue } from '../support/temporal';
import { roundTrip } from './workflows';

let client: Client;
let connection: NativeConnection;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  client = await testClient();
  connection = await testNativeConnection();
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: quietLogger });
}, 120_000);

afterAll(async () => {
  await connection?.close();
  await client?.connection.close();
});

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string) => console.error(message),
};

test('a workflow runs an activity on the shared dev server and carries the runbook search attributes', async () => {
  const taskQueue = uniqueTaskQueue('foundation');
  const name = randomUUID();
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: bundle,
    activities: { greet: async (who: string) => `Hello, ${who}!` },
  });

  await worker.runUntil(async () => {
    const handle = await client.workflow.start(roundTrip, { taskQueue, workflowId: `rt-${name}`, args: [name] });
    expect(await handle.result()).toBe(`Hello, ${name}!`);

    const { typedSearchAttributes } = await handle.describe();
    expect(typedSearchAttributes.get(MIGRATION_ID)).toBe(`rt-${name}`);
    expect(typedSearchAttributes.get(MIGRATION_PHASE)).toBe('completed');
    expect(typedSearchAttributes.get(COSMOS_CONTAINER)).toBe('foundation');
  });

  // Visibility is eventually consistent: poll the query a user would type in the UI.
  let found: string[] = [];
  for (let i = 0; i < 50 && found.length === 0; i++) {
    found = [];
    for await (const execution of client.workflow.list({ query: `MigrationId = "rt-${name}"` })) {
      found.push(execution.workflowId);
    }
    if (found.length === 0) await sleep(200);
  }
  expect(found).toEqual([`rt-${name}`]);
});
