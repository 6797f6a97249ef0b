/**
 * Knowing that it worked, on the local stack: declared queries measured with index metrics, a lost index caught by
 * compareQueryBaselines, the monitoring probe (errors counted, not thrown) and regressed(), and sampleDocumentIds.
 */
import type { Container } from '@azure/cosmos';
import type { Migration } from '../../common/migration';
import type { ProbeResult } from '../../common/activities';
import { compareQueryBaselines, renderQueryBaselinesMarkdown } from '../../common/query-baselines';
import { regressed } from '../../common/probe';
import { createEngineActivities, describeMigration, type EngineActivities } from '../../activities/engine';
import { checkMigration } from '../../activities/registry';
import { freshContainer, seed, startEngineStack, type EngineStack } from './support';

jest.setTimeout(120_000);

let engine: EngineStack;
let activities: EngineActivities;
let container: Container;

const migration: Migration = {
  id: '900-knowing',
  description: 'declares queries',
  container: 'set-per-test',
  fromVersion: 1,
  toVersion: 2,
  up: (doc) => ({ ...doc, schemaVersion: 2 }),
  queries: [
    {
      name: 'by-status',
      query: 'SELECT c.id FROM c WHERE c.status = @s',
      parameters: [{ name: '@s', value: 'gold' }],
    },
    { name: 'by-tenant', query: 'SELECT c.id FROM c WHERE c.tenantId = "t1"', maxRuGrowth: 5 },
  ],
};

const ref = () => ({ database: container.database.id, container: container.id, migration: migration.id });

beforeAll(async () => {
  engine = await startEngineStack();
  activities = createEngineActivities(engine.deps);
  container = await freshContainer(engine.deps, 'knowing');
  engine.use({ ...migration, container: container.id, database: 'knowing' });
  await seed(
    container,
    Array.from({ length: 600 }, (_, i) => ({
      id: `d${i}`,
      tenantId: `t${i % 9}`,
      status: i % 50 === 0 ? 'gold' : 'plain',
      schemaVersion: 1,
    }))
  );
});

afterAll(async () => engine?.close());

test('the module API: queries validated one line per problem, and travel in MigrationInfo as plain JSON', () => {
  expect(
    checkMigration({
      ...migration,
      queries: [
        { name: 'a', query: 'SELECT * FROM c WHERE c.x = @x', parameters: [{ name: 'x', value: 1 }] },
        { name: 'a', query: 'DELETE c', maxRuGrowth: 0.5 },
        { query: '' },
      ],
    })
  ).toEqual([
    'queries[0].parameters[0]: must be { name: "@x", value }',
    'queries[1].name: "a" is used by another query of this module',
    'queries[1].query: must be a SELECT query',
    'queries[1].maxRuGrowth: must be a number of at least 1 (got 0.5)',
    'queries[2].name: missing (a non-empty string)',
    'queries[2].query: missing (Cosmos SQL)',
  ]);
  expect(checkMigration({ ...migration, queries: 'x' })).toEqual([
    'queries: must be an array of { name, query, parameters?, maxRuGrowth? }',
  ]);
  expect(checkMigration(migration)).toEqual([]);
  const info = describeMigration(engine.deps, { migration: migration.id, direction: 'up' });
  expect(info.queries).toEqual(migration.queries);
  expect(JSON.parse(JSON.stringify(info.queries))).toEqual(info.queries);
});

test('runDeclaredQueries: RU over every page, rows, index use; a dropped index is caught with the numbers', async () => {
  const before = await activities.runDeclaredQueries(ref());
  expect(before.queries.map((q) => [q.name, q.rows, q.filteredPaths, q.indexes.utilizedSingle, q.maxRuGrowth])).toEqual(
    [
      ['by-status', 12, ['/status'], ['/status/?'], 2],
      ['by-tenant', 67, ['/tenantId'], ['/tenantId/?'], 5],
    ]
  );
  expect(before.queries.every((q) => q.ruCharge > 0 && q.latencyMs >= 0 && q.error === undefined)).toBe(true);
  expect(compareQueryBaselines(before.queries, before.queries)).toEqual([]);

  const { resource } = await container.read();
  await container.replace({
    ...resource!,
    indexingPolicy: {
      indexingMode: 'consistent',
      includedPaths: [{ path: '/*' }],
      excludedPaths: [{ path: '/status/?' }],
    },
  });
  const after = await activities.runDeclaredQueries(ref());
  const byStatus = after.queries.find((q) => q.name === 'by-status')!;
  expect(byStatus.indexes.potentialSingle).toEqual(['/status/?']);
  expect(byStatus.ruCharge).toBeGreaterThan(before.queries[0]!.ruCharge * 2);

  const problems = compareQueryBaselines(before.queries, after.queries);
  expect(problems.map((p) => [p.name, p.kind])).toEqual([
    ['by-status', 'index-lost'],
    ['by-status', 'ru-growth'],
  ]);
  expect(problems[0]!.message).toMatch(
    /^by-status: index \/status\/\? was used, now only a potential index \(a scan\); RU [\d.]+ → [\d.]+$/
  );
  expect(problems[1]!.before!.ruCharge).toBe(before.queries[0]!.ruCharge);
  expect(problems[1]!.after!.ruCharge).toBe(byStatus.ruCharge);
  const table = renderQueryBaselinesMarkdown(before.queries, after.queries);
  expect(table).toContain('| by-status |');
  expect(table).toContain('index-lost, ru-growth');
  expect(table).toMatch(/\| by-tenant \|.*\| ok \|/);

  await container.replace({
    ...resource!,
    indexingPolicy: { indexingMode: 'consistent', includedPaths: [{ path: '/*' }] },
  });
});

test('a failing query is reported, not thrown, and compareQueryBaselines calls it failed', async () => {
  const broken = {
    ...migration,
    container: container.id,
    database: 'knowing',
    queries: [{ name: 'bad', query: 'SELECT FROM' }],
  };
  engine.use(broken);
  const result = await activities.runDeclaredQueries(ref());
  expect(result.queries[0]!.error).toMatch(/^400/);
  const baseline = { ...result.queries[0]!, error: undefined, ruCharge: 3, rows: 1 };
  expect(compareQueryBaselines([baseline], result.queries).map((p) => p.kind)).toEqual(['failed']);
  expect(compareQueryBaselines([baseline], []).map((p) => p.kind)).toEqual(['missing']);
  engine.use({ ...migration, container: container.id, database: 'knowing' });
});

test('sampleDocumentIds: ids and partition keys only, spread over the ranges', async () => {
  await engine.stack.cosmos.control.setPartitionCount('knowing', container.id, 3);
  const keys = await activities.sampleDocumentIds({ database: 'knowing', container: container.id, count: 9 });
  expect(keys).toHaveLength(9);
  for (const k of keys) expect(Object.keys(k).sort()).toEqual(['id', 'partitionKey']);
  expect(keys.every((k) => /^t\d$/.test(String(k.partitionKey)))).toBe(true);
  expect(new Set(keys.map((k) => k.partitionKey)).size).toBeGreaterThan(2);
  // Pages short or empty with a continuation, as Azure may answer: the same keys, the continuation followed.
  engine.stack.cosmos.control.setFaults([{ kinds: ['query'], shortPageProbability: 1 }], 3);
  try {
    const again = await activities.sampleDocumentIds({ database: 'knowing', container: container.id, count: 9 });
    expect(again).toEqual(keys);
  } finally {
    engine.stack.cosmos.control.setFaults([]);
  }
});

test('probeContainer counts 429 and 5xx instead of throwing; regressed() says why an interval is bad', async () => {
  const sampleIds = await activities.sampleDocumentIds({ database: 'knowing', container: container.id, count: 4 });
  const baseline = await activities.probeContainer({ ...ref(), sampleIds });
  expect(baseline.pointReads.count).toBe(4);
  expect(baseline.queries.map((q) => q.name)).toEqual(['by-status', 'by-tenant']);
  expect(baseline.requests).toBeGreaterThanOrEqual(6);
  expect([baseline.throttled, baseline.serverErrors]).toEqual([0, 0]);
  expect(regressed(baseline, baseline)).toEqual({ bad: false, reason: '', reasons: [] });

  engine.stack.cosmos.control.setFaults([{ kinds: ['read'], unavailableProbability: 1 }]);
  let faulty: ProbeResult;
  try {
    faulty = await activities.probeContainer({ ...ref(), sampleIds: sampleIds.slice(0, 2) });
  } finally {
    engine.stack.cosmos.control.setFaults([]);
  }
  expect(faulty.serverErrors).toBeGreaterThanOrEqual(2);
  expect(faulty.pointReads.count).toBe(0);
  const verdict = regressed(faulty, baseline);
  expect(verdict.bad).toBe(true);
  expect(verdict.reason).toMatch(/server error\(s\) \(limit 0\)/);

  engine.stack.cosmos.control.setFaults([{ kinds: ['read'], throttleProbability: 1, retryAfterMs: 1 }]);
  let throttledProbe: ProbeResult;
  try {
    throttledProbe = await activities.probeContainer({ ...ref(), sampleIds: sampleIds.slice(0, 1) });
  } finally {
    engine.stack.cosmos.control.setFaults([]);
  }
  // the SDK retried the 429s itself (its diagnostics list each attempt), then gave up: all counted, nothing thrown
  expect(throttledProbe.throttled).toBeGreaterThanOrEqual(2);
  expect(throttledProbe.throttled).toBeLessThanOrEqual(throttledProbe.requests);
  expect(regressed(throttledProbe, baseline).reason).toMatch(/requests throttled/);

  const throttled: ProbeResult = { ...baseline, throttled: 3, requests: 10 };
  expect(regressed(throttled, baseline).reason).toBe('3 of 10 requests throttled (30%, limit 5%)');
  const slowQuery: ProbeResult = {
    ...baseline,
    queries: baseline.queries.map((q) => ({ ...q, latencyMs: q.latencyMs * 10 + 100, ruCharge: q.ruCharge * 3 })),
  };
  const slow = regressed(slowQuery, baseline);
  expect(slow.reasons.filter((r) => /took .* ms, baseline/.test(r))).toHaveLength(2);
  expect(slow.reasons.filter((r) => /cost .* RU, baseline .* \(limit 2×\)/.test(r))).toHaveLength(2);
});
