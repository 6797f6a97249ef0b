/**
 * The bench's environment: the local stack with its own Temporal dev server (child process, in memory, free ports,
 * in a temp folder), clients for Cosmos, ARM and Temporal, and workers started as separate processes (bench/worker-process.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CosmosClient } from '@azure/cosmos';
import type { CosmosDBManagementClient } from '@azure/arm-cosmosdb';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createArmClient, createCosmosClient, type AzureSettings } from '../activities/clients';
import { startStack, type RunningStack } from '../local/stack';
import { azureSettingsFromStackEnv } from '../local/stack-env';

export const MIGRATIONS_DIR = path.join(__dirname, 'migrations');
export const TASK_QUEUE = 'cosmos-runbook-bench';

export interface BenchWorker {
  pid: number;
  /** When the process was spawned (ms since epoch). */
  startedAt: number;
  /** Peak resident set size so far, in MB (VmHWM), or NaN where there is no /proc. */
  peakRssMB(): number;
  /** CPU seconds the process has used so far (user + system, all its threads; /proc/<pid>/stat), NaN without /proc. */
  cpuSeconds(): number;
  /** SIGKILL: no shutdown, the activities in flight are lost as on a crashed machine. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the graceful shutdown. */
  stop(): Promise<void>;
}

export interface BenchEnv {
  dir: string;
  stack: RunningStack;
  settings: AzureSettings;
  cosmos: CosmosClient;
  arm: CosmosDBManagementClient;
  client: Client;
  log(line: string): void;
  startWorker(nodeArgs?: string[]): Promise<BenchWorker>;
  /** Added latency per data-plane request of the emulator (PUT /_local/faults latencyMs), 0 for none. */
  setLatency(ms: number): void;
  close(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

function peakRssMB(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1]);
    return kb / 1024;
  } catch {
    return Number.NaN;
  }
}

/** utime + stime of /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux). */
function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

export async function startBenchEnv(log: (line: string) => void): Promise<BenchEnv> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmos-runbook-bench-'));
  const stack = await startStack({
    dir,
    cosmosPort: 0,
    armPort: 0,
    temporal: { mode: 'child', port: 0, uiPort: false, dbFile: false },
    // ARM operations answer at once: the bench measures the runbook, not the imitation's pacing.
    log,
  });
  const settings = azureSettingsFromStackEnv(stack.env);
  const cosmos = createCosmosClient(settings);
  const arm = createArmClient(settings);
  const connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: stack.env.TEMPORAL_NAMESPACE });
  log('bundling the workflows once for every worker ...');
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (m: string) => log(m),
    },
  });
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, bundle.code);
  const workers = new Set<ChildProcess>();

  const startWorker = async (nodeArgs: string[] = []): Promise<BenchWorker> => {
    const startedAt = Date.now();
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(__dirname, 'worker-process.ts')], {
      cwd: path.join(__dirname, '..'),
      env: {
        ...process.env,
        ...stack.env,
        TEMPORAL_TASK_QUEUE: TASK_QUEUE,
        MIGRATIONS_DIR,
        ARM_POLL_INTERVAL_MS: '50',
        COSMOS_RUNBOOK_STACK_ENV: 'off',
        BENCH_WORKFLOW_BUNDLE: bundlePath,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    workers.add(child);
    child.once('exit', () => workers.delete(child));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('ready\n')) resolve();
      });
      child.once('exit', (code, signal) =>
        reject(new Error(`the bench worker exited (${code ?? signal}) before it was ready: ${stderr.trim()}`))
      );
    });
    const pid = child.pid!;
    return {
      pid,
      startedAt,
      peakRssMB: () => peakRssMB(pid),
      cpuSeconds: () => cpuSeconds(pid),
      async kill() {
        child.kill('SIGKILL');
        await exited(child);
      },
      async stop() {
        child.kill('SIGTERM');
        await exited(child);
      },
    };
  };

  return {
    dir,
    stack,
    settings,
    cosmos,
    arm,
    client,
    log,
    startWorker,
    setLatency(ms: number) {
      stack.cosmos.control.setFaults(ms > 0 ? [{ latencyMs: ms }] : []);
    },
    async close() {
      for (const child of workers) {
        child.kill('SIGKILL');
        await exited(child);
      }
      await connection.close().catch(() => undefined);
      cosmos.dispose();
      await stack.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
