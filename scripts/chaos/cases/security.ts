/**
 * Security, measured on a run of its own and on the histories the repository records:
 * - every payload of every history (this stack's runs, and test/histories/*.json) decoded and scanned for document
 *   contents and the configured secrets (the Cosmos key, the ARM token): none;
 * - the worker's allow-list (COSMOS_RUNBOOK_ALLOWED_CONTAINERS): an input override and a rollbackRunbook started
 *   directly, both aimed at another container, are refused and that container is unchanged;
 * - hooks come only from the worker's configuration: an input naming hooks is refused;
 * - ARM refuses requests without a token and with a wrong one (401);
 * - the CLI (config, plan, up, status, report) and the worker's log never print a key.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { createArmClient } from '../../../activities/clients';
import { ErrorType } from '../../../common/errors';
import { tuningSchema } from '../../../common/tuning';
import { azureSettingsFromStackEnv } from '../../../local/stack-env';
import { historyToJSON } from '../../../test/support/history-json';
import { decodedPayloads } from '../../../test/support/payloads';
import { migrationRunbook, rollbackRunbook } from '../../../workflows';
import type { ChaosCase, Figure } from '../types';
import { FAST_ARM_POLLS, startChaosStack, type ChaosStack } from '../support/stack';
import { documents } from '../support/data';
import { PROJECT_ROOT } from '../support/workers';

const DATABASE = 'chaos';
const TASK_QUEUE = 'chaos-security';

function splitModule(id: string): string {
  return `module.exports = {
  id: ${JSON.stringify(id)}, description: 'split name', database: ${JSON.stringify(DATABASE)}, container: 'customers',
  fromVersion: 1, toVersion: 2,
  up(doc) { const [first, ...rest] = doc.name.split(' '); const out = { ...doc, first, last: rest.join(' '), schemaVersion: 2 }; delete out.name; return out; },
  down(doc) { const out = { ...doc, name: doc.first + ' ' + doc.last }; delete out.first; delete out.last; delete out.schemaVersion; return out; },
};
`;
}

/** `npm run migrate -- <args>` as one process, configured only by the stack's environment. */
function cli(cs: ChaosStack, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'client/cli.ts', ...args], {
      cwd: PROJECT_ROOT,
      env: { ...cs.workerEnv(TASK_QUEUE, FAST_ARM_POLLS), FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

async function statusOf(promise: Promise<unknown>): Promise<number | undefined> {
  return promise.then(
    () => 200,
    (err: { statusCode?: number }) => err.statusCode
  );
}

/** The failure a run ends with (its type and message), or a description of how it ended instead. */
async function runFailure(cs: ChaosStack, input: Record<string, unknown>): Promise<{ type?: string; message: string }> {
  return cs.client.workflow
    .execute(migrationRunbook, { taskQueue: TASK_QUEUE, workflowId: `security-${randomUUID()}`, args: [input] })
    .then(
      (report) => ({ message: `ended ${report.status}` }),
      (err: unknown) => {
        const cause =
          err instanceof WorkflowFailedError ? (err.cause as { type?: string; message: string }) : undefined;
        return cause ?? { message: String(err) };
      }
    );
}

export const security: ChaosCase = {
  name: 'security',
  async run({ quick, log }) {
    const n = quick ? 40 : 400;
    const marker = `DOC-CONTENT-${randomUUID()}`;
    const cs = await startChaosStack('security');
    const secrets = { COSMOS_KEY: cs.env.COSMOS_KEY, LOCAL_ARM_TOKEN: cs.env.LOCAL_ARM_TOKEN };
    try {
      const customers = await cs.createContainer(DATABASE, 'customers');
      const payments = await cs.createContainer(DATABASE, 'payments');
      const docs = Array.from({ length: n }, (_, i) => ({
        id: `c-${i}`,
        tenant: `t${i % 3}`,
        name: `Privatename${i} Surname${i}`,
        note: marker,
      }));
      for (const [index, doc] of docs.entries()) {
        await customers.items.create(doc);
        await payments.items.create({ ...doc, amount: index });
      }
      const paymentsBefore = await documents(payments, cs.stack.cosmos.admin);
      const id = `security-${randomUUID().slice(0, 6)}`;
      cs.writeMigration(`${id}.js`, splitModule(id));
      await cs.startWorker(TASK_QUEUE, {
        ...FAST_ARM_POLLS,
        COSMOS_RUNBOOK_ALLOWED_CONTAINERS: `${DATABASE}/customers`,
      });

      // The CLI, as a user runs it, with the keys in its environment: a plan, a run to its report, status, config.
      log('  migrate CLI: config, plan, up --yes, status, report');
      const outputs = [
        await cli(cs, ['config']),
        await cli(cs, ['plan', id]),
        await cli(cs, ['up', id, '--yes', '--monitor-duration', '1s', '--monitor-interval', '1s']),
        await cli(cs, ['status']),
        await cli(cs, ['report', id]),
      ];
      const upOk = outputs[2]!.code === 0;
      if (!upOk) log(`  migrate up exited ${outputs[2]!.code}:\n${outputs[2]!.output}`);

      // Aimed elsewhere: an override, and the rollback child started on its own.
      const override = await runFailure(cs, { migration: id, container: 'payments', approval: { required: false } });
      const rollback = await cs.client.workflow.execute(rollbackRunbook, {
        taskQueue: TASK_QUEUE,
        workflowId: `security-rollback-${randomUUID()}`,
        args: [
          {
            parentWorkflowId: 'none',
            migration: {
              id,
              description: 'aimed elsewhere',
              database: DATABASE,
              container: 'payments',
              checksum: 'x',
              versionField: 'schemaVersion',
              hasUp: true,
              hasDown: true,
              hasVerify: false,
              migratesDocuments: true,
              relationships: [],
              queries: [],
            },
            direction: 'up',
            mode: 'down',
            reason: 'aimed elsewhere',
            batchSize: 10,
            concurrency: 1,
            maxFailures: 0,
            verifySampleSize: 0,
            requireRestoreApproval: false,
            approvalTimeout: '1m',
            tuning: tuningSchema.parse({}),
          },
        ],
      });
      const paymentsUnchanged =
        JSON.stringify(await documents(payments, cs.stack.cosmos.admin)) === JSON.stringify(paymentsBefore);
      const refusedOverride = override.type === ErrorType.ContainerNotAllowed;
      const refusedRollback =
        !rollback.ok && rollback.problems.some((p) => p.includes('is not allowed on this worker'));
      if (!refusedOverride) log(`  override: ${JSON.stringify(override)}`);
      if (!refusedRollback) log(`  direct rollback: ${JSON.stringify(rollback)}`);

      // Hooks only from the worker's configuration.
      const hooks = await runFailure(cs, { migration: id, hooks: { stopApp: { command: ['touch', '/tmp/pwned'] } } });
      const hooksRefused = hooks.type === ErrorType.InvalidInput && /hooks/.test(hooks.message);

      // ARM: no token, a wrong token.
      const settings = azureSettingsFromStackEnv(cs.env);
      const { AZURE_RESOURCE_GROUP: group, COSMOS_ACCOUNT: account } = cs.env;
      const noToken = createArmClient(settings);
      noToken.pipeline.removePolicy({ name: 'bearerTokenAuthenticationPolicy' });
      const armStatuses = [
        await statusOf(noToken.databaseAccounts.get(group, account)),
        await statusOf(createArmClient({ ...settings, armToken: 'wrong-token' }).databaseAccounts.get(group, account)),
      ];

      // Every payload of every history: this stack's runs, then the repository's recorded ones.
      const leaks = (text: string) =>
        [marker, 'Privatename', ...Object.values(secrets)].filter((needle) => text.includes(needle));
      let payloads = 0;
      let histories = 0;
      let decodedIds = 0;
      const leaked: string[] = [];
      for await (const execution of cs.client.workflow.list()) {
        const history = await cs.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
        histories += 1;
        // As JSON first: a fetched history holds payload bytes, which decodedPayloads reads as base64 text.
        for (const payload of decodedPayloads(historyToJSON(history))) {
          payloads += 1;
          // The migration's id is in every run's input: seeing it proves the payloads really are decoded.
          if (payload.includes(id)) decodedIds += 1;
          for (const found of leaks(payload)) leaked.push(`${execution.workflowId}: ${found.slice(0, 12)}…`);
        }
      }
      const recordedDir = path.join(PROJECT_ROOT, 'test', 'histories');
      // Recorded by the test harness: its documents carry test/workflow/harness.ts's MARKER in `note`.
      const harnessMarker = 'SECRET-CONTENT-7f3a9c';
      for (const file of fs.readdirSync(recordedDir).filter((f) => f.endsWith('.json'))) {
        histories += 1;
        for (const payload of decodedPayloads(fs.readFileSync(path.join(recordedDir, file), 'utf8'))) {
          payloads += 1;
          for (const needle of [harnessMarker, cs.env.COSMOS_KEY]) if (payload.includes(needle)) leaked.push(file);
        }
      }
      if (leaked.length) log(`  leaks: ${leaked.slice(0, 10).join(', ')}`);

      const workerLog = fs
        .readdirSync(path.join(cs.dir, 'logs'))
        .filter((f) => f.startsWith('worker-'))
        .map((f) => fs.readFileSync(path.join(cs.dir, 'logs', f), 'utf8'))
        .join('\n');
      const printed = [...outputs.map((o) => o.output), workerLog].filter((text) =>
        Object.values(secrets).some((secret) => text.includes(secret))
      ).length;

      const figures: Figure[] = [
        {
          name: 'security: history payloads with document contents or keys',
          value: `${leaked.length} (of ${payloads} payloads in ${histories} histories)`,
          target: '= 0',
          holds: leaked.length === 0 && decodedIds > 0,
        },
        {
          name: 'security: runs aimed outside the allow-list refused, data unchanged',
          value: `${Number(refusedOverride) + Number(refusedRollback)}/2${paymentsUnchanged ? '' : ', payments CHANGED'}`,
          target: '= 2/2, unchanged',
          holds: refusedOverride && refusedRollback && paymentsUnchanged,
        },
        {
          name: 'security: hooks in the workflow input refused',
          value: hooksRefused ? 'refused' : hooks.message.slice(0, 60),
          target: 'refused',
          holds: hooksRefused,
        },
        {
          name: 'security: ARM without / with a wrong token',
          value: armStatuses.join(' / '),
          target: '401 / 401',
          holds: armStatuses.every((s) => s === 401),
        },
        {
          name: 'security: CLI and worker outputs printing a key',
          value: `${printed} (of ${outputs.length} CLI commands and the worker log${upOk ? '' : '; up FAILED'})`,
          target: '= 0, up completed',
          holds: printed === 0 && upOk,
        },
      ];
      return figures;
    } finally {
      await cs.close();
    }
  },
};
