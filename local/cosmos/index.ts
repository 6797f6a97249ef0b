/**
 * The local Cosmos DB emulator of the embedded stack: @vercel/cosmosdb-server over HTTPS with keep-alive, fixed
 * where it breaks what the product relies on, with an RU model, fault injection and a continuous-backup log.
 * See local/README.md.
 */
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createHttpsServer } from '@vercel/cosmosdb-server';
import { Admin, containerDefinition, writeDocuments } from './admin';
import { keepingTimestamps } from './restored-timestamps';
import { BackupLogFile } from './backup-log';
import { createDispatch, type RequestListener } from './dispatch';
import { Engine } from './engine';
import { FaultInjector } from './faults';
import { createFrontListener } from './front';
import { applyServerPatches } from './patches';
import { seedFromEnv } from '../seeded-random';
import { envFlag, envPriorityModel, PARTIAL_BULK_THROTTLING_ENV, PRIORITY_BASED_EXECUTION_ENV } from './fidelity';
import { PartitionTable } from './partitions';
import { envSessionLag, SessionReplicas } from './session-consistency';
import { classify } from './routes';
import { RuModel } from './ru-model';
import { TtlSweeper } from './ttl';
import {
  zeroPriorityStats,
  type EmulatorControl,
  type EmulatorStats,
  type LocalCosmos,
  type LocalCosmosOptions,
} from './types';

export type * from './types';

/** The Azure Cosmos DB Emulator's well-known account key (the emulator accepts any key on the data plane). */
export const EMULATOR_KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nIAA2jDzIAEhXCyeCuKrMKzcCdKl7kK8pPNhjmHhQ==';

export async function startLocalCosmos(options: LocalCosmosOptions): Promise<LocalCosmos> {
  // Read (and checked) before anything is opened: a bad variable leaves nothing behind.
  const fidelity = {
    priorityBased: options.priorityBasedExecution ?? envFlag(PRIORITY_BASED_EXECUTION_ENV, false),
    priorityModel: options.priorityModel ?? envPriorityModel(),
    partialBulkThrottling: options.partialBulkThrottling ?? envFlag(PARTIAL_BULK_THROTTLING_ENV, true),
    sessionLagMs: options.sessionLagMs ?? envSessionLag(),
  };
  applyServerPatches();
  const backup = new BackupLogFile(options.dataDir);
  const server: Server = createHttpsServer({
    keepAlive: true,
    cert: options.certificate.cert,
    key: options.certificate.key,
  });
  const [stockListener] = server.listeners('request') as RequestListener[];
  if (!stockListener) throw new Error('@vercel/cosmosdb-server: no request listener to wrap (package changed?)');
  server.removeAllListeners('request');

  const bindHost = options.host ?? '127.0.0.1';
  const publicHost = bindHost === '0.0.0.0' || bindHost === '::' ? '127.0.0.1' : bindHost;
  let hostHeader = publicHost;
  const engine = new Engine(
    createDispatch(stockListener, () => hostHeader),
    backup
  );
  const ru = new RuModel(options.ruModel);
  ru.priorityBased = fidelity.priorityBased;
  ru.priorityModel = fidelity.priorityModel;
  ru.partialBulkThrottling = fidelity.partialBulkThrottling;
  const partitions = new PartitionTable({
    readDefinition: async (database, container) => {
      const url = `/dbs/${encodeURIComponent(database)}/colls/${encodeURIComponent(container)}`;
      const res = await engine.dispatch({ method: 'GET', url, headers: {}, body: '' });
      return res.status === 200 ? (JSON.parse(res.body) as Record<string, unknown>) : null;
    },
    provisioned: (database, container) => ru.provisioned(database, container),
    layoutChanged: (database, container) => ru.resetBuckets(`${database}/${container}`),
  });
  engine.onLifecycle = (event) => {
    if (event.kind === 'database-deleted') {
      partitions.forgetDatabase(event.database);
      ru.forgetDatabase(event.database);
      return;
    }
    partitions.forget(event.database, event.container);
    if (event.kind === 'container-deleted') ru.forgetContainer(event.database, event.container);
  };
  const replicas = new SessionReplicas(fidelity.sessionLagMs);
  const faults = new FaultInjector(options.faultSeed ?? seedFromEnv());
  const stats: Omit<EmulatorStats, 'faultSeed'> = {
    throttled: 0,
    throttledOperations: 0,
    injected: { throttle: 0, unavailable: 0, timeout: 0, drop: 0, dropResponse: 0, bulkOperation: 0, shortPage: 0 },
    requestCharge: 0,
    partitionKeyRangeGone: 0,
    byPriority: { High: zeroPriorityStats(), Low: zeroPriorityStats() },
  };
  const control: EmulatorControl = {
    setRuModel: (enabled, ruOptions) => ru.configure(enabled, ruOptions),
    setPriorityBasedExecution: (enabled) => {
      ru.priorityBased = enabled;
    },
    priorityBasedExecution: () => ru.priorityBased,
    setPriorityModel: (model) => {
      ru.priorityModel = model;
    },
    priorityModel: () => ru.priorityModel,
    setPartialBulkThrottling: (enabled) => {
      ru.partialBulkThrottling = enabled;
    },
    partialBulkThrottling: () => ru.partialBulkThrottling,
    setThroughput: (database, container, ruPerSecond) => {
      ru.setThroughput(database, container, ruPerSecond);
      partitions.throughputChanged(database, container, ruPerSecond);
    },
    setFaults: (rules, seed) => faults.set(rules, seed),
    setSessionLag: (lagMs) => {
      if (!Number.isFinite(lagMs) || lagMs < 0) throw new Error(`session lag must be ≥ 0 ms, got ${lagMs}`);
      replicas.lagMs = lagMs;
    },
    sessionLag: () => replicas.lagMs,
    stats: () => ({
      ...stats,
      faultSeed: faults.seed,
      injected: { ...stats.injected },
      byPriority: { High: { ...stats.byPriority.High }, Low: { ...stats.byPriority.Low } },
    }),
    partitions: (database, container) => partitions.layout(database, container),
    setPartitionCount: (database, container, count) => partitions.setCount(database, container, count),
    splitPartition: (database, container, rangeId) => partitions.split(database, container, rangeId),
  };
  server.on(
    'request',
    createFrontListener({ engine, ru, faults, partitions, replicas, control, stats, key: EMULATOR_KEY })
  );

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, bindHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    partitions.close();
    backup.close();
    throw new Error(
      `Local Cosmos emulator: cannot listen on ${bindHost}:${options.port ?? 0}: ${(err as Error).message}`
    );
  }
  const { port } = server.address() as AddressInfo;
  hostHeader = `${publicHost}:${port}`;

  try {
    await replay(engine, backup);
  } catch (err) {
    await closeServer(server);
    partitions.close();
    backup.close();
    throw new Error(`Local Cosmos emulator: replaying ${backup.file} failed: ${(err as Error).message}`);
  }

  const ttl = new TtlSweeper(engine);
  ttl.start();

  return {
    endpoint: `https://${publicHost}:${port}/`,
    key: EMULATOR_KEY,
    control,
    backup,
    admin: new Admin(engine, backup),
    async close() {
      ttl.stop();
      await closeServer(server);
      partitions.close();
      backup.close();
    },
  };
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Loads the state at the end of the backup log into the fresh (empty) server, without logging it again. */
async function replay(engine: Engine, backup: BackupLogFile): Promise<void> {
  const state = backup.foldAll();
  const run = async (method: string, url: string, body: unknown, expected: number, what: string) => {
    const { response } = await engine.execute(
      { method, url, headers: {}, body: JSON.stringify(body) },
      classify(method, url, {}),
      { log: false }
    );
    if (response.status !== expected) throw new Error(`${what}: HTTP ${response.status} ${response.body}`);
  };
  for (const db of state.databases) await run('POST', '/dbs', { id: db }, 201, `database "${db}"`);
  for (const { db, definition, documents } of state.containers.values()) {
    const id = String(definition.id);
    await run(
      'POST',
      `/dbs/${encodeURIComponent(db)}/colls`,
      containerDefinition(definition),
      201,
      `container "${db}/${id}"`
    );
    const docs = [...documents.values()].map((e) => e.doc ?? {});
    // A restart changes nothing a client can see: each document keeps its `_ts` (restored-timestamps.ts).
    await keepingTimestamps(definition, docs, () => writeDocuments(engine, db, id, docs, { log: false }));
  }
}
