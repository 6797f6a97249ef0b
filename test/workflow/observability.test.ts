/**
 * The worker as production runs it (`tsx worker/main.ts`, configured by its environment only) with
 * METRICS_BIND_ADDRESS set: one run migrates N documents, then
 * - its Prometheus endpoint has cosmos_runbook_documents_migrated_total = N, the runbook's other series, and
 *   Temporal's own worker metrics (worker/telemetry.ts);
 * - its stdout is JSON lines only, with the workflow's own phase lines (workflows/run/run.ts `log.info('runbook
 *   phase')`, which reach the runtime logger through the SDK's logger sink), and no document content.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { RUNBOOK_METRICS } from '../../common/metric-names';
import { PHASES } from '../../common/phases';
import { migrationRunbook } from '../../workflows';
import { uniqueTaskQueue } from '../support/temporal';
import { Harness, MARKER, customers, splitNameModule } from './harness';

const ROOT = path.resolve(__dirname, '..', '..');
const DOCS = 23;

let h: Harness;
let worker: ChildProcess | undefined;
let output = '';
let metricsAddress = '';
let migrationId = '';
let workflowId = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (worker?.exitCode !== null)
      throw new Error(`the worker exited (${worker?.exitCode}) before ${what}:\n${output}`);
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}:\n${output.slice(-4000)}`);
}

/** Prometheus text → the sum of a metric's samples whose labels include `labels`. */
function sum(text: string, metric: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/.exec(line);
    if (!m || m[1] !== metric) continue;
    const tags = m[2] ?? '';
    if (!Object.entries(labels).every(([k, v]) => tags.includes(`${k}="${v}"`))) continue;
    total = (total ?? 0) + Number(m[3]);
  }
  return total;
}

async function scrape(): Promise<string> {
  const response = await fetch(`http://${metricsAddress}/metrics`);
  if (!response.ok) throw new Error(`metrics answered ${response.status}`);
  return response.text();
}

beforeAll(async () => {
  h = await Harness.start();
  const { database } = await h.seed(customers(DOCS));
  migrationId = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${migrationId}.js`, splitNameModule(migrationId, database));
  metricsAddress = `127.0.0.1:${await freePort()}`;
  const taskQueue = uniqueTaskQueue('observability');
  worker = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      ...h.stack.env,
      COSMOS_RUNBOOK_STACK_ENV: 'off',
      TEMPORAL_TASK_QUEUE: taskQueue,
      MIGRATIONS_DIR: h.migrationsDir,
      ARM_POLL_INTERVAL_MS: '50',
      METRICS_BIND_ADDRESS: metricsAddress,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  worker.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  await waitFor('the worker listens', async () =>
    output.includes('worker listening on task queue') ? true : undefined
  );
  workflowId = `observed-${randomUUID()}`;
  const report = await h.client.workflow.execute(migrationRunbook, {
    taskQueue,
    workflowId,
    args: [{ migration: migrationId, approval: { required: false }, monitor: { duration: '1s', interval: '1s' } }],
  });
  expect(report).toMatchObject({ status: 'completed', counters: { migrated: DOCS, failed: 0 } });
}, 300_000);

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const gone = new Promise((r) => worker!.once('exit', r));
    worker.kill('SIGTERM');
    await gone;
  }
  await h?.close();
});

test('the metrics endpoint counts the documents migrated, beside Temporal’s own worker metrics', async () => {
  // The workflow's series (phase) are recorded through a sink after the activation: wait for the final phase.
  const text = await waitFor('the completed phase on /metrics', async () => {
    const t = await scrape();
    return sum(t, 'cosmos_runbook_phase', { migration: migrationId, phase: 'completed' }) === 1 ? t : undefined;
  });
  const run = { migration: migrationId };
  expect(sum(text, 'cosmos_runbook_documents_migrated_total', { ...run, direction: 'up' })).toBe(DOCS);
  expect(sum(text, 'cosmos_runbook_documents_failed_total', run) ?? 0).toBe(0);
  // The phase it left is 0, so a dashboard shows the run in one phase.
  expect(sum(text, 'cosmos_runbook_phase', { ...run, phase: 'migrating' })).toBe(0);
  // Every write of the migration goes at Low priority (activities/cosmos/migrate-range.ts): at least ~N × 10 RU.
  expect(sum(text, 'cosmos_runbook_request_units_total', { priority: 'low' })).toBeGreaterThanOrEqual(DOCS * 5);
  // Temporal's own (core) metrics on the same endpoint.
  expect(sum(text, 'temporal_activity_execution_latency_count')).toBeGreaterThan(0);
  expect(sum(text, 'temporal_workflow_completed_total')).toBeGreaterThan(0);
});

test('the worker logs JSON lines, the workflow’s own phase lines among them, and no document content', async () => {
  // The sink delivers the last activation's lines after the run's result: wait for the line.
  await waitFor('the completed phase line', async () => (/"phase":"completed"/.test(output) ? true : undefined));
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  const records = lines.map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`not a JSON line: ${line}`);
    }
  });
  const phases = records
    .filter((r) => r.msg === 'runbook phase' && r.workflowId === workflowId)
    .map((r) => ({ level: r.level, sdkComponent: r.sdkComponent, migrationId: r.migrationId, phase: r.phase }));
  expect(phases).toContainEqual({ level: 'info', sdkComponent: 'workflow', migrationId, phase: 'migrating' });
  expect(phases.at(-1)).toEqual({ level: 'info', sdkComponent: 'workflow', migrationId, phase: 'completed' });
  expect(output).not.toContain(MARKER);
});

test('the dashboard and docs/observability.md name only metrics and phases the worker records', () => {
  const gauges: string[] = [RUNBOOK_METRICS.phase, RUNBOOK_METRICS.ruBudget, RUNBOOK_METRICS.catchUpLag];
  const exported = new Set(
    Object.values(RUNBOOK_METRICS).map((name) => (gauges.includes(name) ? name : `${name}_total`))
  );
  const dashboard = fs.readFileSync(path.join(ROOT, 'docs', 'grafana', 'cosmos-runbook.json'), 'utf8');
  const page = fs.readFileSync(path.join(ROOT, 'docs', 'observability.md'), 'utf8');
  const queried = (text: string) => new Set(text.match(/cosmos_runbook_[a-z_]+/g));
  // Imported by Grafana as JSON: it parses, and queries every metric.
  expect((JSON.parse(dashboard) as { panels: unknown[] }).panels.length).toBeGreaterThan(0);
  expect([...queried(dashboard)].sort()).toEqual([...exported].sort());
  for (const name of queried(page)) expect(exported).toContain(name);
  for (const [, phases] of page.matchAll(/phase=~?"([^"]+)"/g)) {
    for (const phase of phases!.split('|')) expect(PHASES).toContain(phase);
  }
});
