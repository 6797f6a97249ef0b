/**
 * What the engine tests share: a private local stack (emulator + ARM imitation over HTTPS, real SDK clients),
 * ActivityDeps built on it, a registry of the test's own migration objects, and helpers to seed and read documents.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import { BulkOperationType, type Container, type OperationInput } from '@azure/cosmos';
import { MockActivityEnvironment } from '@temporalio/testing';
import { MIGRATION_INVALID, type MigrateRangeInput, type MigrateRangeResult } from '../../common/activities';
import type { Migration, MigrationDocument } from '../../common/migration';
import { migrateRange } from '../../activities/cosmos/migrate-range';
import { isThrottled } from '../../activities/cosmos/requests';
import type { ActivityDeps, LoadedMigration, MigrationRegistry } from '../../activities/deps';
import { startTestStack, type TestStack } from '../support/stack';
import { accountConnector } from '../../activities/clients';

export interface EngineStack {
  stack: TestStack;
  deps: ActivityDeps;
  /** Replaces the migrations the activities see. */
  use(...migrations: Migration[]): void;
  close(): Promise<void>;
}

export function registryOf(migrations: Migration[]): MigrationRegistry {
  const byId = new Map<string, LoadedMigration>(
    migrations.map((m) => [m.id, { definition: m, file: `<test>/${m.id}.ts`, checksum: `test-${m.id}` }])
  );
  return {
    dir: '<test>',
    list: () => [...byId.values()],
    get(id) {
      const found = byId.get(id);
      if (!found) throw ApplicationFailure.nonRetryable(`unknown migration "${id}"`, MIGRATION_INVALID);
      return found;
    },
  };
}

export async function startEngineStack(options: Parameters<typeof startTestStack>[0] = {}): Promise<EngineStack> {
  const stack = await startTestStack(options);
  const deps: ActivityDeps = {
    cosmos: stack.cosmosClient(),
    arm: stack.armClient(),
    account: {
      subscriptionId: stack.settings.subscriptionId,
      resourceGroup: stack.settings.resourceGroup,
      name: stack.settings.account,
    },
    registry: registryOf([]),
    hooks: {},
    control: { historyContainer: 'migrations-history', leaseContainer: 'migrations-leases' },
    armPollIntervalMs: stack.settings.armPollIntervalMs ?? 50,
    connectAccount: accountConnector(stack.settings),
  };
  return {
    stack,
    deps,
    use(...migrations) {
      deps.registry = registryOf(migrations);
    },
    close: () => stack.close(),
  };
}

let containerSeq = 0;

/** A fresh container (data plane) for one test, partitioned by /tenantId unless told otherwise. */
export async function freshContainer(
  deps: ActivityDeps,
  database = 'engine',
  partitionKey = '/tenantId'
): Promise<Container> {
  const { database: db } = await deps.cosmos.databases.createIfNotExists({ id: database });
  containerSeq += 1;
  const { container } = await db.containers.createIfNotExists({
    id: `c${containerSeq}-${Date.now().toString(36)}`,
    partitionKey: { paths: [partitionKey] },
  });
  return container;
}

/**
 * Upserts documents with bulk calls of 100, sending again whole requests throttled and the operations throttled inside
 * a request (the emulator throttles a bulk in part, as Azure does).
 */
export async function seed(container: Container, docs: Record<string, unknown>[], pkField = 'tenantId'): Promise<void> {
  for (let i = 0; i < docs.length; i += 100) {
    let ops: OperationInput[] = docs.slice(i, i + 100).map((d) => ({
      operationType: BulkOperationType.Upsert,
      partitionKey: d[pkField] as string,
      resourceBody: d as never,
    }));
    for (;;) {
      try {
        const res = await container.items.bulk(ops);
        const bad = res.filter((r) => r.statusCode >= 300 && r.statusCode !== 429);
        if (bad.length > 0) throw new Error(`seed: ${bad.length} upserts failed (${bad[0]!.statusCode})`);
        ops = ops.filter((_, k) => res[k]!.statusCode === 429);
        if (ops.length === 0) break;
        await sleep(100);
      } catch (err) {
        if (isThrottled(err)) {
          await sleep(100);
          continue;
        }
        throw err;
      }
    }
  }
}

export async function readAll<T = Record<string, unknown>>(
  container: Container
): Promise<Map<string, T & { _etag: string }>> {
  const { resources } = await container.items.readAll<T & { id: string; _etag: string }>().fetchAll();
  return new Map(resources.map((d) => [d.id, d]));
}

/** The document without Cosmos's system properties, for comparisons. */
export function withoutSystem(doc: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!doc) return doc;
  return Object.fromEntries(
    Object.entries(doc).filter(([k]) => !['_rid', '_self', '_etag', '_attachments', '_ts'].includes(k))
  );
}

/** The single feed range of a container (the emulator has one). */
export async function wholeRange(container: Container): Promise<string> {
  const ranges = await container.getFeedRanges();
  return JSON.stringify({ minInclusive: ranges[0]!.minInclusive, maxExclusive: ranges[0]!.maxExclusive });
}

export function rangeInput(
  container: Container,
  migration: string,
  feedRange: string,
  extra: Partial<MigrateRangeInput> = {}
): MigrateRangeInput {
  return {
    database: container.database.id,
    container: container.id,
    migration,
    direction: 'up',
    feedRange,
    batchSize: 100,
    maxFailures: 0,
    dryRun: false,
    ...extra,
  };
}

/** Runs migrateRange as a Temporal activity would (heartbeats captured), optionally resuming from heartbeat details. */
export async function runRange(
  deps: ActivityDeps,
  input: MigrateRangeInput,
  options: {
    heartbeatDetails?: unknown;
    onHeartbeat?: (details: unknown, env: MockActivityEnvironment) => void;
    /** Receives every heartbeat, also when the activity throws. */
    heartbeats?: unknown[];
  } = {}
): Promise<{ result: MigrateRangeResult; heartbeats: unknown[] }> {
  const env = new MockActivityEnvironment(
    options.heartbeatDetails !== undefined ? { heartbeatDetails: options.heartbeatDetails } : {}
  );
  const heartbeats: unknown[] = options.heartbeats ?? [];
  env.on('heartbeat', (d: unknown) => {
    heartbeats.push(d);
    options.onHeartbeat?.(d, env);
  });
  const result: MigrateRangeResult = await env.run(migrateRange, deps, input);
  return { result, heartbeats };
}

/**
 * `n` customer documents `cust-<i>` (from `from`), spread over 7 tenants, each with a "First Last" name: the shape the
 * engine tests' split-name migrations take apart. `extra` adds fields per document.
 */
export function customerDocs<T extends { id: string }>(
  n: number,
  from = 0,
  extra: (i: number) => Record<string, unknown> = () => ({})
): T[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return {
      id: `cust-${i}`,
      tenantId: `t${i % 7}`,
      name: `First${i} Last${i}`,
      email: `c${i}@example.com`,
      ...extra(i),
    } as unknown as T;
  });
}

/** A migration (1 → 2) that counts, per document id, how often `up` ran: a second application shows 2. */
export function countingMigration(transforms: Map<string, number>): Migration {
  return {
    id: 'touch',
    description: 'count transforms',
    container: 'x',
    database: 'engine',
    fromVersion: 1,
    toVersion: 2,
    up(doc: MigrationDocument & { touched?: number }) {
      transforms.set(doc.id, (transforms.get(doc.id) ?? 0) + 1);
      return { ...doc, touched: (doc.touched ?? 0) + 1 };
    },
  };
}

/**
 * A fresh container of `n` documents (tenants t0–t4, plus `extra(i)`), the counting migration in use, and the whole
 * feed range to migrate it by.
 */
export async function countedRange(
  engine: EngineStack,
  n: number,
  extra: (i: number) => Record<string, unknown> = () => ({})
): Promise<{ container: Container; range: string; transforms: Map<string, number> }> {
  const container = await freshContainer(engine.deps);
  await seed(
    container,
    Array.from({ length: n }, (_, i) => ({ id: `d${i}`, tenantId: `t${i % 5}`, ...extra(i) }))
  );
  const transforms = new Map<string, number>();
  engine.use(countingMigration(transforms));
  return { container, range: await wholeRange(container), transforms };
}
