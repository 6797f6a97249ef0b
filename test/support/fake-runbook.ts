/**
 * Phase-machine tests: the real workflow code (the run's one bundle) on a real Temporal worker of the shared dev
 * server, with the fake activities (test/support/fake-activities) instead of Cosmos and ARM. No emulator, no ARM
 * imitation, no migration module files: a test scripts the activities, starts migrationRunbook and asserts what the
 * workflow did.
 *
 * Why not TestWorkflowEnvironment.createTimeSkipping(): it runs Temporal's Java test server, which
 * @temporalio/testing downloads at run time (node_modules/@temporalio/testing/lib/testing-workflow-environment.js,
 * `createTimeSkipping` → `ephemeralServer: { type: 'time-skipping' }`), and nothing can be downloaded here. The
 * workflow's durable timers are short in tests instead (the input's `tuning`, monitor and approval durations).
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { RunbookReport } from '../../common/report';
import { migrationRunbook } from '../../workflows';
import { createFakeActivities, type FakeKit, type FakeScript } from './fake-activities';
import { testClient, testNativeConnection, uniqueTaskQueue } from './temporal';
import { runbookWorkflowBundle } from './workflow-bundle';

export class FakeRunbook {
  private constructor(
    readonly client: Client,
    private readonly connection: NativeConnection
  ) {}

  static async start(): Promise<FakeRunbook> {
    const [client, connection] = await Promise.all([testClient(), testNativeConnection()]);
    return new FakeRunbook(client, connection);
  }

  async close(): Promise<void> {
    await this.client.connection.close();
    await this.connection.close();
  }

  /**
   * A worker on its own task queue running the real workflows with the scripted activities, for the length of `body`.
   * Its options are the real worker's that matter to the phase machine (worker/create-worker.ts): heartbeats reach the
   * server at most 1 s apart, so a cancellation arrives within a page.
   */
  async with<T>(script: FakeScript, body: (kit: FakeKit & { taskQueue: string }) => Promise<T>): Promise<T> {
    const kit = createFakeActivities(script);
    const taskQueue = uniqueTaskQueue('fake');
    const worker = await Worker.create({
      connection: this.connection,
      namespace: 'default',
      taskQueue,
      workflowBundle: await runbookWorkflowBundle(),
      activities: kit.activities,
      maxHeartbeatThrottleInterval: '1 second',
      shutdownGraceTime: '1 second',
    });
    return worker.runUntil(body({ ...kit, taskQueue }));
  }

  /** Starts migrationRunbook with `input` (migration defaults to the script's) on the kit's task queue. */
  start(
    kit: { taskQueue: string; migration: { id: string } },
    input: Record<string, unknown>,
    workflowId = `fake-${randomUUID()}`
  ) {
    return this.client.workflow.start(migrationRunbook, {
      taskQueue: kit.taskQueue,
      workflowId,
      args: [{ migration: kit.migration.id, ...input }],
    });
  }

  /** Runs to the end, expecting a failure; returns the workflow's failure (type and message). */
  async expectFailure(
    kit: { taskQueue: string; migration: { id: string } },
    input: Record<string, unknown>
  ): Promise<Error & { type?: string }> {
    const handle = await this.start(kit, input);
    const outcome = await handle.result().then(
      (report: RunbookReport) => report,
      (err: unknown) => err
    );
    if (!(outcome instanceof WorkflowFailedError)) {
      const ended = outcome as RunbookReport;
      throw new Error(`expected the run to fail; it ended ${ended.status}: ${ended.reason ?? ''}`);
    }
    return outcome.cause as Error & { type?: string };
  }
}
