/**
 * Bad input: every entry point a user feeds — the workflow input, the `migrate` CLI's arguments,
 * migration module files, the worker's environment and HOOKS_CONFIG, signal and update payloads — given something
 * wrong. Each case must answer with a specific message where the user looks (the run's failure, the CLI's one
 * `error:` line with exit 1, the worker's start-up error with exit 1, the run's timeline, the update's rejection) and
 * change no data: the container is compared with its seeded contents after every case.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Container } from '@azure/cosmos';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ErrorType } from '../../../common/errors';
import { migrationRunbook } from '../../../workflows';
import {
  abortSignal,
  approveSignal,
  pauseUpdate,
  rollbackSignal,
  setBudgetUpdate,
  setConcurrencyUpdate,
  statusQuery,
} from '../../../workflows/messages';
import type { ChaosCase, Figure } from '../types';
import { FAST_ARM_POLLS, startChaosStack, type ChaosStack } from '../support/stack';
import { documents } from '../support/data';
import { PROJECT_ROOT } from '../support/workers';

const DATABASE = 'chaos';
const CONTAINER = 'customers';
const TASK_QUEUE = 'chaos-bad-input';

export type Entry = 'workflow input' | 'migrate CLI' | 'module file' | 'worker start' | 'signal' | 'update';

/** Where the answer appeared and what it said. */
interface Answer {
  /** The answer came where the user looks, in the expected form (failure type, exit code, one line...). */
  placed: boolean;
  message: string;
}

interface Context {
  cs: ChaosStack;
  id: string;
  /** A run waiting at the approval gate (signal and update cases). */
  gate: WorkflowHandle<typeof migrationRunbook>;
}

export interface BadInputCase {
  entry: Entry;
  name: string;
  /** The specific message the user must get. */
  expect: RegExp;
  run(ctx: Context): Promise<Answer>;
}

export interface BadInputResult {
  entry: Entry;
  name: string;
  behaved: boolean;
  message: string;
  /** Why it did not behave, when it did not. */
  problem?: string;
}

function moduleSource(id: string): string {
  return `module.exports = {
  id: ${JSON.stringify(id)}, description: 'split name', database: ${JSON.stringify(DATABASE)},
  container: ${JSON.stringify(CONTAINER)}, fromVersion: 1, toVersion: 2,
  up(doc) { const [first, ...rest] = doc.name.split(' '); const out = { ...doc, first, last: rest.join(' '), schemaVersion: 2 }; delete out.name; return out; },
  down(doc) { const out = { ...doc, name: doc.first + ' ' + doc.last }; delete out.first; delete out.last; delete out.schemaVersion; return out; },
};
`;
}

/** A process of the project (`tsx <script> ...`) with the stack's environment plus `env`: its exit code and output. */
function runScript(
  cs: ChaosStack,
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {}
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: PROJECT_ROOT,
      env: { ...cs.workerEnv(TASK_QUEUE, FAST_ARM_POLLS), FORCE_COLOR: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * A run started with `value` (or the input `value(id)` makes for the case's valid migration) must fail at once with
 * `type`, its message naming what is wrong.
 */
function input(name: string, value: unknown, expect: RegExp, type: string = ErrorType.InvalidInput): BadInputCase {
  return {
    entry: 'workflow input',
    name,
    expect,
    async run({ cs, id }) {
      const handle = await cs.client.workflow.start(migrationRunbook, {
        taskQueue: TASK_QUEUE,
        workflowId: `bad-input-${randomUUID()}`,
        args: [(typeof value === 'function' ? (value as (id: string) => unknown)(id) : value) as never],
      });
      // A run that neither fails nor ends is the worst answer: stop it after a while and say so.
      const timer = setTimeout(() => void handle.terminate('bad input case: no answer within 120 s'), 120_000);
      const outcome = await handle
        .result()
        .finally(() => clearTimeout(timer))
        .then(
          (report) => ({ type: undefined, message: `the run ended ${report.status}: ${report.reason ?? ''}` }),
          (err: unknown) => {
            const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
            return {
              type: (cause as { type?: string } | undefined)?.type,
              message: cause?.message ?? String(err),
            };
          }
        );
      return { placed: outcome.type === type, message: outcome.message };
    },
  };
}

/** `npm run migrate -- <args>` must exit 1 with one `error:` line (a `hint:` line may follow). */
function cli(name: string, args: (id: string) => string[], expect: RegExp): BadInputCase {
  return {
    entry: 'migrate CLI',
    name,
    expect,
    async run(ctx) {
      const result = await runScript(ctx.cs, 'client/cli.ts', args(ctx.id));
      const errors = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
      return {
        placed: result.code === 1 && errors.length === 1,
        message: errors.length ? errors.join('\n') : `exit ${result.code}: ${result.stderr}${result.stdout}`,
      };
    },
  };
}

/** A worker started with `env` (and these module files in its own MIGRATIONS_DIR) must refuse to start: exit 1. */
/**
 * What a user reads of a worker that refused to start: the messages of its error-level log lines (the worker logs JSON
 * lines, worker/logger.ts), unescaped; empty when there are none.
 */
function workerErrors(output: string): string {
  const messages: string[] = [];
  for (const line of output.split('\n')) {
    try {
      const record = JSON.parse(line) as { level?: unknown; msg?: unknown };
      if (record.level === 'error' && typeof record.msg === 'string') messages.push(record.msg);
    } catch {
      // not a log line
    }
  }
  return messages.join('\n');
}

function worker(
  entry: 'module file' | 'worker start',
  name: string,
  setup: (dir: string) => NodeJS.ProcessEnv,
  expect: RegExp
): BadInputCase {
  return {
    entry,
    name,
    expect,
    async run({ cs }) {
      const dir = fs.mkdtempSync(path.join(cs.dir, 'bad-worker-'));
      const result = await runScript(cs, 'worker/main.ts', [], { MIGRATIONS_DIR: dir, ...setup(dir) });
      return {
        placed: result.code === 1 && !result.stdout.includes('worker listening'),
        message: workerErrors(`${result.stdout}\n${result.stderr}`) || result.stderr.trim() || result.stdout.trim(),
      };
    },
  };
}

/** A signal with a wrong payload, to the run at its gate: refused with a note in its timeline; it stays at the gate. */
function signal(name: string, send: (gate: Context['gate']) => Promise<void>, expect: RegExp): BadInputCase {
  return {
    entry: 'signal',
    name,
    expect,
    async run({ gate }) {
      const before = (await gate.query(statusQuery)).timeline.length;
      await send(gate);
      for (let i = 0; i < 100; i++) {
        const status = await gate.query(statusQuery);
        const notes = status.timeline.slice(before).map((t) => t.note ?? '');
        const note = notes.find((n) => expect.test(n));
        if (note !== undefined) return { placed: status.phase === 'awaiting-approval', message: note };
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const status = await gate.query(statusQuery);
      return { placed: false, message: `no note; phase ${status.phase}` };
    },
  };
}

/** An update with a wrong argument: rejected by its validator with a message; the run stays at its gate. */
function update(name: string, send: (gate: Context['gate']) => Promise<unknown>, expect: RegExp): BadInputCase {
  return {
    entry: 'update',
    name,
    expect,
    async run({ gate }) {
      const outcome = await send(gate).then(
        (answer) => ({ rejected: false, message: `accepted: ${JSON.stringify(answer)}` }),
        (err: unknown) => ({ rejected: true, message: (err as { cause?: Error }).cause?.message ?? String(err) })
      );
      const phase = (await gate.query(statusQuery)).phase;
      return { placed: outcome.rejected && phase === 'awaiting-approval', message: outcome.message };
    },
  };
}

const hooksFile = (dir: string, content: string) => {
  const file = path.join(dir, 'hooks.json');
  fs.writeFileSync(file, content);
  return { HOOKS_CONFIG: file };
};
const moduleFile = (dir: string, file: string, content: string) => {
  fs.writeFileSync(path.join(dir, file), content);
  return {};
};

/** The cases, in the order they run. */
export function badInputCases(): BadInputCase[] {
  return [
    input('null input', null, /^invalid runbook input:\ninput: .*expected object/i),
    input('an array as input', [], /^invalid runbook input:\ninput: .*expected object/i),
    input('an unknown key (a typo of batchSize)', { migration: 'x', batchsize: 10 }, /Unrecognized key.*"batchsize"/),
    input('hooks in the input (hooks come from the worker only)', { migration: 'x', hooks: {} }, /"hooks"/),
    input(
      'batchSize as a string',
      { migration: 'x', batchSize: '100' },
      /^invalid runbook input:\nbatchSize: .*number/
    ),
    input('batchSize 0', { migration: 'x', batchSize: 0 }, /batchSize: .*>=1/),
    input('concurrency above the limit', { migration: 'x', concurrency: 64 }, /concurrency: .*<=32/),
    input('a negative RU budget', { migration: 'x', ruBudget: -5 }, /ruBudget: .*>0/),
    input('an unknown direction', { migration: 'x', direction: 'sideways' }, /direction: .*"up"\|"down"/),
    input('an unknown rollback', { migration: 'x', rollback: 'sometimes' }, /rollback: .*"auto"/),
    input(
      'an approval timeout that is not a duration',
      { migration: 'x', approval: { timeout: 'soon' } },
      /approval\.timeout: .*duration/
    ),
    input(
      'a reversed maintenance window',
      { migration: 'x', maintenanceWindow: { start: '2031-01-02T00:00:00Z', end: '2031-01-01T00:00:00Z' } },
      /maintenanceWindow\.end: must be after maintenanceWindow\.start \(the window is reversed or empty\)/
    ),
    input(
      'a maintenance window that is not a date',
      { migration: 'x', maintenanceWindow: { start: 'tonight', end: '2031-01-01T00:00:00Z' } },
      /maintenanceWindow\.start: must be an ISO date-time/
    ),
    input('a wrong hidden tuning value', { migration: 'x', tuning: { leaseTtlSeconds: 1 } }, /tuning\.leaseTtlSeconds/),
    input(
      'requireStagingRun without a database',
      { migration: 'x', requireStagingRun: {} },
      /requireStagingRun\.database/
    ),
    input('an unknown migration', { migration: 'no-such-migration' }, /no-such-migration/, ErrorType.MigrationInvalid),
    input(
      'an unknown container (override)',
      (id: string) => ({ migration: id, container: 'no-such-container', approval: { required: false } }),
      /chaos\/no-such-container does not exist/,
      ErrorType.PreflightFailed
    ),
    input(
      'an unknown database (override)',
      (id: string) => ({ migration: id, database: 'no-such-db', approval: { required: false } }),
      /no-such-db\/customers does not exist/,
      ErrorType.PreflightFailed
    ),
    cli('up without a migration id', () => ['up'], /missing required argument 'id'/),
    cli('an unknown command', () => ['frobnicate'], /unknown command 'frobnicate'/),
    cli(
      '--batch-size that is not a number',
      (id) => ['up', id, '--batch-size', 'abc'],
      /--batch-size.*'abc' is invalid/
    ),
    cli('--concurrency 0', (id) => ['up', id, '--concurrency', '0'], /--concurrency.*'0' is invalid/),
    cli(
      '--monitor-duration that is not a duration',
      (id) => ['up', id, '--monitor-duration', 'soon'],
      /monitor\.duration: must be a duration/
    ),
    cli(
      'up of an unknown migration',
      () => ['up', 'no-such-migration', '--yes'],
      /unknown migration "no-such-migration"/
    ),
    cli('approve of a run that does not exist', () => ['approve', 'no-such-migration'], /no-such-migration/),
    worker(
      'module file',
      'a module with a syntax error',
      (dir) => moduleFile(dir, 'broken.js', 'module.exports = {'),
      /broken\.js: cannot be loaded: .*broken\.js:\d+:\d+: ERROR: /
    ),
    worker(
      'module file',
      'a module without an id',
      (dir) =>
        moduleFile(
          dir,
          'no-id.js',
          "module.exports = { description: 'd', container: 'c', fromVersion: 1, toVersion: 2, up: (d) => d };"
        ),
      /no-id\.js: id: missing/
    ),
    worker(
      'module file',
      'two modules with the same id',
      (dir) => {
        const source =
          "module.exports = { id: 'dup', description: 'd', container: 'c', fromVersion: 1, toVersion: 2, up: (d) => d };";
        moduleFile(dir, 'a.js', source);
        return moduleFile(dir, 'b.js', source);
      },
      /b\.js: id: "dup" is already used by/
    ),
    worker(
      'worker start',
      'TEMPORAL_ADDRESS without a port',
      () => ({ TEMPORAL_ADDRESS: 'nope' }),
      /TEMPORAL_ADDRESS: must be host:port/
    ),
    worker(
      'worker start',
      'COSMOS_ENDPOINT over http',
      () => ({ COSMOS_ENDPOINT: 'http://127.0.0.1:1/' }),
      /COSMOS_ENDPOINT: must be an https:\/\/ URL/
    ),
    worker(
      'worker start',
      'MIGRATIONS_DIR that does not exist',
      () => ({ MIGRATIONS_DIR: '/nonexistent/migrations' }),
      /MIGRATIONS_DIR: .*is not a folder/
    ),
    worker(
      'worker start',
      'HOOKS_CONFIG that is not JSON',
      (dir) => hooksFile(dir, '{ stopApp: '),
      /HOOKS_CONFIG: .*is not valid JSON/
    ),
    worker(
      'worker start',
      'HOOKS_CONFIG with a wrong hook',
      (dir) => hooksFile(dir, JSON.stringify({ stopApp: 'rm -rf /' })),
      /HOOKS_CONFIG: .*stopApp/
    ),
    worker(
      'worker start',
      'an allow-list entry without a database',
      () => ({ COSMOS_RUNBOOK_ALLOWED_CONTAINERS: 'customers' }),
      /COSMOS_RUNBOOK_ALLOWED_CONTAINERS: "customers" is not database\/container/
    ),
    signal(
      'approve with a number as the approver',
      (gate) => gate.signal(approveSignal, { by: 42 as never }),
      /approve ignored: its payload has by of type number/
    ),
    signal(
      "approve with a typo'd field",
      (gate) => gate.signal(approveSignal, { bye: 'bob' } as never),
      /approve ignored: its payload has unknown field "bye"/
    ),
    signal(
      'abort with a string payload',
      (gate) => gate.signal(abortSignal, 'now' as never),
      /abort ignored: its payload must be .*not string/
    ),
    signal(
      'rollback with an array payload',
      (gate) => gate.signal(rollbackSignal, [] as never),
      /rollback ignored: its payload must be .*not an array/
    ),
    update(
      'setBudget of -1 RU/s',
      (gate) => gate.executeUpdate(setBudgetUpdate, { args: [{ ruPerSecond: -1 }] }),
      /setBudget: ruPerSecond must be a positive number/
    ),
    update(
      'setConcurrency of "eight"',
      (gate) => gate.executeUpdate(setConcurrencyUpdate, { args: [{ concurrency: 'eight' as never }] }),
      /setConcurrency: concurrency must be a whole number/
    ),
    update(
      'pause at the approval gate',
      (gate) => gate.executeUpdate(pauseUpdate, { args: [{ reason: 'x' }] }),
      /pause: nothing to pause in phase awaiting-approval/
    ),
  ];
}

export async function runBadInputCases(log: (line: string) => void, quick: boolean): Promise<BadInputResult[]> {
  const n = quick ? 20 : 200;
  const cs = await startChaosStack('bad-input');
  try {
    const container: Container = await cs.createContainer(DATABASE, CONTAINER);
    for (let i = 0; i < n; i++) {
      await container.items.create({ id: `c-${i}`, tenant: `t${i % 3}`, name: `First${i} Last${i}` });
    }
    // "No data changed": the container's documents, and the account's databases and containers.
    const state = async () => {
      const names: string[] = [];
      for (const db of (await cs.cosmos.databases.readAll().fetchAll()).resources) {
        const containers = await cs.cosmos.database(db.id).containers.readAll().fetchAll();
        names.push(...containers.resources.map((c) => `${db.id}/${c.id}`), db.id);
      }
      return JSON.stringify({ documents: await documents(container, cs.stack.cosmos.admin), names: names.sort() });
    };
    const id = `bad-input-${randomUUID().slice(0, 6)}`;
    cs.writeMigration(`${id}.js`, moduleSource(id));
    await cs.startWorker(TASK_QUEUE, FAST_ARM_POLLS);
    const gate = await cs.client.workflow.start(migrationRunbook, {
      taskQueue: TASK_QUEUE,
      workflowId: `bad-input-gate-${id}`,
      args: [{ migration: id }],
    });
    for (
      let i = 0;
      i < 600 && (await gate.query(statusQuery).catch(() => undefined))?.phase !== 'awaiting-approval';
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // After the gate run took its lease (the lease container is the runbook's own, created once).
    const seeded = await state();
    const results: BadInputResult[] = [];
    for (const c of badInputCases()) {
      let answer: Answer;
      try {
        answer = await c.run({ cs, id, gate });
      } catch (err) {
        answer = { placed: false, message: `the case threw: ${err instanceof Error ? err.message : String(err)}` };
      }
      const unchanged = (await state()) === seeded;
      const specific = c.expect.test(answer.message);
      const problem = [
        answer.placed ? '' : 'not where the user looks',
        specific ? '' : `message does not match ${c.expect}`,
        unchanged ? '' : 'DATA CHANGED',
      ]
        .filter(Boolean)
        .join('; ');
      results.push({
        entry: c.entry,
        name: c.name,
        behaved: !problem,
        message: answer.message,
        ...(problem ? { problem } : {}),
      });
      log(
        `  ${problem ? 'NO ' : 'ok '} ${c.entry}: ${c.name} → ${answer.message.split('\n').slice(-1)[0]!.slice(0, 140)}${problem ? ` (${problem})` : ''}`
      );
    }
    await gate.signal(abortSignal, { reason: 'bad-input cases done' });
    await gate.result();
    return results;
  } finally {
    await cs.close();
  }
}

export const badInput: ChaosCase = {
  name: 'bad-input',
  async run({ quick, log }) {
    const results = await runBadInputCases(log, quick);
    const behaved = results.filter((r) => r.behaved).length;
    const entries = new Set(results.map((r) => r.entry)).size;
    const figures: Figure[] = [
      {
        name: 'bad input: cases (entry points)',
        value: `${results.length} (${entries})`,
        target: '≥ 25 (6)',
        holds: results.length >= 25 && entries === 6,
      },
      {
        name: 'bad input: specific message where the user looks, no data changed',
        value: `${behaved}/${results.length}`,
        target: `= ${results.length}/${results.length}`,
        holds: behaved === results.length,
      },
    ];
    return figures;
  },
};
