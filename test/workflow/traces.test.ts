/**
 * Traces (worker/tracing.ts): the worker as production runs it (`tsx worker/main.ts`, which bundles the workflows with
 * the tracing interceptor module) and the CLI's client (client/temporal.ts connectTemporal), both with
 * OTEL_EXPORTER_OTLP_ENDPOINT pointed at a small OTLP/HTTP receiver in this test. One run migrates DOCS documents in
 * pages of PAGE; then
 * - the client's, the workflow's and the activities' spans are one trace;
 * - there is a span per Cosmos page and bulk request (activities/cosmos/page-spans.ts), each the child of its
 *   activity's span, and their RU add up to what the emulator charged at Low priority (its own stats);
 * - no seeded document value is in any span.
 * The exporter sends OTLP JSON (node_modules/@opentelemetry/exporter-trace-otlp-http/build/src/platform/node/
 * OTLPTraceExporter.js: JsonTraceSerializer, content-type application/json): the receiver parses it as JSON.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import type { ClientConfig } from '../../client/config';
import { connectTemporal } from '../../client/temporal';
import { startTracing, tracingEnabled } from '../../worker/tracing';
import { migrationRunbook } from '../../workflows';
import { uniqueTaskQueue } from '../support/temporal';
import { Harness, MARKER, customers, splitNameModule } from './harness';

const ROOT = path.resolve(__dirname, '..', '..');
const DOCS = 23;
const PAGE = 5;

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: OtlpValue }[];
}
interface OtlpExport {
  resourceSpans: {
    resource: { attributes: { key: string; value: OtlpValue }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
}
interface Received {
  service: string;
  environment?: string;
  span: OtlpSpan;
  attrs: Record<string, string | number | boolean | undefined>;
}

const bodies: string[] = [];
let receiver: http.Server;
let endpoint = '';
let h: Harness;
let worker: ChildProcess | undefined;
let output = '';
let migrationId = '';
let workflowId = '';
let lowCharged = 0;
let spans: Received[] = [];

function valueOf(v: OtlpValue): string | number | boolean | undefined {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  return v.boolValue;
}

function attributes(list: { key: string; value: OtlpValue }[]): Record<string, string | number | boolean | undefined> {
  return Object.fromEntries(list.map(({ key, value }) => [key, valueOf(value)]));
}

function received(): Received[] {
  return bodies.flatMap((body) =>
    (JSON.parse(body) as OtlpExport).resourceSpans.flatMap((rs) => {
      const resource = attributes(rs.resource.attributes);
      return rs.scopeSpans.flatMap((ss) =>
        ss.spans.map((span) => ({
          service: String(resource['service.name']),
          environment: resource['deployment.environment'] as string | undefined,
          span,
          attrs: attributes(span.attributes),
        }))
      );
    })
  );
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = probe();
    if (value !== undefined) return value;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}:\n${output.slice(-4000)}`);
}

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') bodies.push(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

  h = await Harness.start();
  const { database } = await h.seed(customers(DOCS));
  migrationId = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${migrationId}.js`, splitNameModule(migrationId, database));
  const taskQueue = uniqueTaskQueue('traces');
  worker = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      ...h.stack.env,
      COSMOS_RUNBOOK_STACK_ENV: 'off',
      TEMPORAL_TASK_QUEUE: taskQueue,
      MIGRATIONS_DIR: h.migrationsDir,
      ARM_POLL_INTERVAL_MS: '50',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_SERVICE_NAME: 'runbook-worker-under-test',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=traces-test,service.name=overridden-by-OTEL_SERVICE_NAME',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  worker.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  await waitFor('the worker listens', () => (output.includes('worker listening on task queue') ? true : undefined));

  // The CLI's client, traced as the CLI traces it (its service name is its default: no OTEL_SERVICE_NAME here).
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
  const config = {
    temporal: { address: process.env.TEMPORAL_ADDRESS!, namespace: 'default' },
    migrationsDir: h.migrationsDir,
  } as ClientConfig;
  const session = await connectTemporal(config);
  const before = h.stack.cosmos.control.stats().byPriority.Low.requestCharge;
  try {
    workflowId = `traced-${randomUUID()}`;
    const report = await session.client.workflow.execute(migrationRunbook, {
      taskQueue,
      workflowId,
      args: [
        {
          migration: migrationId,
          batchSize: PAGE,
          approval: { required: false },
          monitor: { duration: '1s', interval: '1s' },
        },
      ],
    });
    expect(report).toMatchObject({ status: 'completed', counters: { migrated: DOCS, failed: 0 } });
  } finally {
    await session.close(); // flushes the client's spans
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  }
  lowCharged = h.stack.cosmos.control.stats().byPriority.Low.requestCharge - before;
  // A graceful stop flushes the worker's spans (worker/main.ts): every span is here once it has exited.
  const gone = new Promise((r) => worker!.once('exit', r));
  worker.kill('SIGTERM');
  await gone;
  spans = received();
}, 300_000);

afterAll(async () => {
  if (worker && worker.exitCode === null) worker.kill('SIGKILL');
  await h?.close();
  await new Promise((r) => receiver?.close(r));
});

test('the client’s, the workflow’s and the activities’ spans are one trace, under the configured service names', () => {
  const start = spans.find((s) => s.span.name === 'StartWorkflow:migrationRunbook');
  expect(start).toMatchObject({ service: 'cosmos-runbook-cli' });
  const trace = spans.filter((s) => s.span.traceId === start!.span.traceId);
  const names = new Set(trace.map((s) => s.span.name));
  expect(names).toContain('RunWorkflow:migrationRunbook');
  expect([...names].filter((n) => n.startsWith('StartActivity:')).length).toBeGreaterThan(0);
  expect([...names].filter((n) => n.startsWith('RunActivity:')).length).toBeGreaterThan(0);
  // OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES; the other attributes are kept.
  const workerSpans = trace.filter((s) => s.span.name.startsWith('RunActivity:'));
  for (const s of workerSpans) {
    expect({ service: s.service, environment: s.environment }).toEqual({
      service: 'runbook-worker-under-test',
      environment: 'traces-test',
    });
  }
  // The worker's spans of this run are all in it (none orphaned in a trace of their own).
  const runSpans = spans.filter((s) => s.attrs.temporalWorkflowId === workflowId);
  expect(runSpans.length).toBeGreaterThan(0);
  expect(runSpans.filter((s) => s.span.traceId !== start!.span.traceId)).toEqual([]);
});

test('a span per Cosmos page and bulk request, child of its activity, whose RU add up to what the emulator charged', () => {
  const activities = new Map(
    spans.filter((s) => s.span.name.startsWith('RunActivity:')).map((s) => [s.span.spanId, s.span.name])
  );
  const cosmos = spans.filter((s) => s.attrs['db.system'] === 'cosmosdb');
  const queries = cosmos.filter((s) => s.attrs['db.cosmosdb.operation_type'] === 'Query');
  const bulks = cosmos.filter((s) => s.attrs['db.cosmosdb.operation_type'] === 'Batch');
  const feedPages = cosmos.filter((s) => s.attrs['db.cosmosdb.operation_type'] === 'ReadFeed');
  // DOCS documents in pages of PAGE: at least ceil(DOCS / PAGE) pages of the migration's scan (and the
  // verification's), and the migration's replaces in bulk requests.
  expect(queries.length).toBeGreaterThanOrEqual(Math.ceil(DOCS / PAGE));
  expect(bulks.length).toBeGreaterThanOrEqual(Math.ceil(DOCS / PAGE));
  // The catch-up follows the change feed to its head (activities/cosmos/migrate-range.ts followFeed).
  expect(feedPages.map((s) => activities.get(s.span.parentSpanId ?? ''))).toContain('RunActivity:catchUpRange');
  for (const s of cosmos) {
    expect(activities.get(s.span.parentSpanId ?? '')).toMatch(/^RunActivity:/);
    expect(s.attrs['db.cosmosdb.request_charge']).toBeGreaterThan(0);
    expect(s.attrs['azure.cosmosdb.operation.request_charge']).toBe(s.attrs['db.cosmosdb.request_charge']);
    // A change-feed page may be the 304 of the feed's head (no new changes).
    const statuses = s.attrs['db.cosmosdb.operation_type'] === 'ReadFeed' ? [200, 304] : [200];
    expect(statuses).toContain(s.attrs['db.cosmosdb.status_code']);
    expect(s.attrs['db.cosmosdb.container']).toEqual(expect.any(String));
  }
  const documentsRead = queries
    .filter((s) => s.attrs['db.cosmosdb.container'] === 'customers')
    .map((s) => Number(s.attrs['cosmos_runbook.count']));
  expect(Math.max(...documentsRead)).toBe(PAGE);
  const operationsSent = bulks.reduce((sum, s) => sum + Number(s.attrs['db.operation.batch.size']), 0);
  expect(operationsSent).toBeGreaterThanOrEqual(DOCS);
  // Every request the engine sends goes at Low priority, each in a span: the emulator's Low charge
  // (local/cosmos/front.ts byPriority) is the spans' sum.
  const spanned = cosmos.reduce((sum, s) => sum + Number(s.attrs['db.cosmosdb.request_charge']), 0);
  expect(lowCharged).toBeGreaterThan(0);
  expect(spanned).toBeCloseTo(lowCharged, 1);
});

test('no seeded document value is in any span', () => {
  expect(bodies.length).toBeGreaterThan(0);
  const all = bodies.join('\n');
  expect(all).not.toContain(MARKER);
  for (const doc of customers(DOCS)) {
    expect(all).not.toContain(`"${doc.id}"`);
    expect(all).not.toContain(String(doc.name));
  }
});

test('without an endpoint nothing starts, and the engine’s spans go to the no-op tracer', () => {
  expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ', OTEL_SERVICE_NAME: 'x' })).toBe(false);
  expect(tracingEnabled({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint })).toBe(true);
  expect(startTracing('cosmos-runbook-worker', {})).toBeUndefined();
  // The client's tracing was shut down with its session (worker/tracing.ts shutdown): no provider left behind.
  const span = trace.getTracer('cosmos-runbook').startSpan('page');
  expect(span.isRecording()).toBe(false);
  span.end();
});
