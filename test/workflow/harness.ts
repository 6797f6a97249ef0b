/**
 * What every runbook test needs: a private local stack (Cosmos + ARM), the shared Temporal dev server, the real
 * worker (createRunbookWorker) pointed at a temp MIGRATIONS_DIR of modules written by the test, and helpers to seed a
 * container and read it back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { CosmosClient } from '@azure/cosmos';
import type { CosmosDBManagementClient } from '@azure/arm-cosmosdb';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import type { HooksConfig } from '../../activities/hooks/config';
import type { RunbookStatus } from '../../common/status';
import { migrationRunbook } from '../../workflows';
import { statusQuery } from '../../workflows/messages';
import type { WorkerConfig } from '../../worker/config';
import { createRunbookWorker, type RunbookWorker } from '../../worker/create-worker';
import { startTestStack, type TestStack, type TestStackOptions } from '../support/stack';
import { installQuietRuntime, testClient, uniqueTaskQueue } from '../support/temporal';
import { runbookWorkflowBundle } from '../support/workflow-bundle';

export const MARKER = 'SECRET-CONTENT-7f3a9c';

export type Doc = { id: string; [field: string]: unknown };

export class Harness {
  readonly migrationsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'runbook-migrations-'));
  readonly workers: RunbookWorker[] = [];

  private constructor(
    readonly stack: TestStack,
    readonly client: Client,
    readonly cosmos: CosmosClient,
    readonly arm: CosmosDBManagementClient,
    readonly bundle: WorkflowBundleWithSourceMap
  ) {}

  static async start(options: TestStackOptions = {}): Promise<Harness> {
    installQuietRuntime();
    const stack = await startTestStack(options);
    const client = await testClient();
    const bundle = await runbookWorkflowBundle();
    return new Harness(stack, client, stack.cosmosClient(), stack.armClient(), bundle);
  }

  async close(): Promise<void> {
    for (const w of this.workers.splice(0)) await w.close().catch(() => undefined);
    await this.client.connection.close();
    await this.stack.close();
    fs.rmSync(this.migrationsDir, { recursive: true, force: true });
  }

  /** A migration module file (CommonJS source text) in the worker's MIGRATIONS_DIR. */
  writeMigration(file: string, source: string): void {
    fs.writeFileSync(path.join(this.migrationsDir, file), source);
  }

  config(taskQueue: string, hooks: HooksConfig = {}): WorkerConfig {
    return {
      temporal: { address: process.env.TEMPORAL_ADDRESS!, namespace: 'default', taskQueue },
      azure: this.stack.settings,
      migrationsDir: this.migrationsDir,
      hooks,
    };
  }

  /**
   * Runs migrationRunbook with `input` to its end, expecting it to fail (WorkflowFailedError); returns the failure
   * the workflow raised, with its type and message. A run that completes fails the test, naming its outcome.
   */
  async expectRunFailure(
    taskQueue: string,
    input: Record<string, unknown>,
    workflowId = `failing-${randomUUID()}`
  ): Promise<Error & { type?: string }> {
    const outcome = await this.client.workflow.execute(migrationRunbook, { taskQueue, workflowId, args: [input] }).then(
      (report) => report,
      (err: unknown) => err
    );
    if (!(outcome instanceof WorkflowFailedError)) {
      throw new Error(`expected run ${workflowId} to fail; it ended with ${JSON.stringify(outcome)}`);
    }
    return outcome.cause as Error & { type?: string };
  }

  /** The real worker, in process, on a new task queue (the run's one bundle: test/support/workflow-bundle.ts). */
  async worker(
    hooks: HooksConfig = {},
    taskQueue = uniqueTaskQueue('runbook')
  ): Promise<RunbookWorker & { taskQueue: string }> {
    const w = await createRunbookWorker(this.config(taskQueue, hooks), { workflowBundle: this.bundle });
    this.workers.push(w);
    return Object.assign(w, { taskQueue });
  }

  /** A database (fresh name per test) with one container created through ARM, seeded with `docs`. */
  async seed(
    docs: Doc[],
    options: { database?: string; container?: string; partitionKey?: string; throughput?: number } = {}
  ) {
    const database = options.database ?? `db${randomUUID().slice(0, 8)}`;
    const container = options.container ?? 'customers';
    const { resourceGroup, account } = this.stack.settings;
    await this.arm.sqlResources.beginCreateUpdateSqlDatabaseAndWait(
      resourceGroup,
      account,
      database,
      { resource: { id: database }, options: {} },
      { updateIntervalInMs: 50 }
    );
    await this.arm.sqlResources.beginCreateUpdateSqlContainerAndWait(
      resourceGroup,
      account,
      database,
      container,
      {
        resource: { id: container, partitionKey: { paths: [options.partitionKey ?? '/tenant'], kind: 'Hash' } },
        options: options.throughput !== undefined ? { throughput: options.throughput } : {},
      },
      { updateIntervalInMs: 50 }
    );
    const c = this.cosmos.database(database).container(container);
    for (const doc of docs) await c.items.create(doc);
    return { database, container };
  }

  /**
   * Every document, system fields removed, sorted by id: what "the data" means in a comparison. Read as the primary
   * holds it (the emulator's admin): a client without the worker's session token may see a lagging replica
   * (LOCAL_COSMOS_SESSION_LAG_MS, local/cosmos/session-consistency.ts).
   */
  async documents(database: string, container: string): Promise<Doc[]> {
    const resources = (await this.stack.cosmos.admin.listDocuments(database, container)) as Doc[];
    return resources
      .map((doc) => Object.fromEntries(Object.entries(doc).filter(([k]) => !k.startsWith('_'))) as Doc)
      .sort((a, b) => a.id.localeCompare(b.id));
  }
}

export function customers(n: number, extra: (i: number) => Record<string, unknown> = () => ({})): Doc[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `c-${String(i).padStart(4, '0')}`,
    tenant: `t${i % 3}`,
    name: `First${i} Last${i}`,
    note: MARKER,
    ...extra(i),
  }));
}

/** A module splitting `name` into first/last (1 → 2), reversible unless `down` is false. */
export function splitNameModule(
  id: string,
  database: string,
  opts: { down?: boolean; verify?: string; upExtra?: string; container?: string } = {}
): string {
  return `module.exports = {
  id: ${JSON.stringify(id)},
  description: 'split name',
  database: ${JSON.stringify(database)},
  container: ${JSON.stringify(opts.container ?? 'customers')},
  fromVersion: 1,
  toVersion: 2,
  up(doc) {
    ${opts.upExtra ?? ''}
    if (typeof doc.name !== 'string') return undefined;
    const [first, ...rest] = doc.name.split(' ');
    const out = { ...doc, first, last: rest.join(' '), schemaVersion: 2 };
    delete out.name;
    return out;
  },
  ${
    opts.down === false
      ? ''
      : `down(doc) {
    const out = { ...doc, name: [doc.first, doc.last].join(' ') };
    delete out.first; delete out.last; delete out.schemaVersion;
    return out;
  },`
  }
  ${opts.verify ? `verify(doc) { ${opts.verify} return true; },` : ''}
};
`;
}

export async function waitForPhase(
  handle: WorkflowHandle,
  phases: RunbookStatus['phase'] | RunbookStatus['phase'][],
  timeoutMs = 60_000
): Promise<RunbookStatus> {
  const wanted = Array.isArray(phases) ? phases : [phases];
  const deadline = Date.now() + timeoutMs;
  let last: RunbookStatus | undefined;
  while (Date.now() < deadline) {
    try {
      last = await handle.query(statusQuery);
      if (wanted.includes(last.phase)) return last;
    } catch {
      // the first workflow task may not have run yet
    }
    await sleep(200);
  }
  throw new Error(
    `workflow did not reach ${wanted.join('|')} within ${timeoutMs} ms (last: ${JSON.stringify(last?.phase)} ${last?.lastError ?? ''})`
  );
}

const exec = promisify(execFile);

/** The real `temporal` CLI against the shared dev server. */
export async function temporalCli(args: string[]): Promise<string> {
  const cli = process.env.TEMPORAL_CLI_PATH;
  if (!cli) throw new Error('TEMPORAL_CLI_PATH is not set (test/support/global-setup.ts sets it)');
  const { stdout } = await exec(cli, [...args, '--address', process.env.TEMPORAL_ADDRESS!, '--namespace', 'default'], {
    timeout: 30_000,
  });
  return stdout;
}

/** The decoded first argument of every `activity` the history scheduled, with its event id, in order. */
export function scheduledInputs<T>(
  history: temporal.api.history.v1.IHistory,
  activity: string
): { eventId: string; input: T }[] {
  return (history.events ?? []).flatMap((e) => {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name !== activity) return [];
    const data = scheduled.input?.payloads?.[0]?.data;
    const input = (data ? JSON.parse(Buffer.from(data).toString('utf8')) : {}) as T;
    return [{ eventId: String(e.eventId), input }];
  });
}

/** Golden histories for the replay test: written when missing (or with UPDATE_HISTORIES=1). */
export function saveHistory(name: string, json: string): void {
  const file = path.join(__dirname, '..', 'histories', name);
  if (!fs.existsSync(file) || process.env.UPDATE_HISTORIES === '1') fs.writeFileSync(file, json);
}

/** Polls the status query until the run asks for `kind` (fails when the run ends first, or after `timeoutMs`). */
export async function waitForDecision(
  handle: WorkflowHandle,
  kind: string,
  timeoutMs = 60_000
): Promise<RunbookStatus> {
  const deadline = Date.now() + timeoutMs;
  let status: RunbookStatus | undefined;
  while (Date.now() < deadline) {
    status = await handle.query(statusQuery).catch(() => undefined);
    if (status?.pendingDecision?.kind === kind) return status;
    if (status && ['rolled-back', 'rollback-failed', 'completed', 'failed'].includes(status.phase)) break;
    await sleep(200);
  }
  throw new Error(`no ${kind} decision asked for (last: ${status?.phase} ${status?.lastError ?? ''})`);
}
