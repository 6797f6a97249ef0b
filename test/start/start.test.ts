/**
 * `npm start -- --once` as a user runs it: a child process that brings up its own embedded stack (on free ports, in
 * a private STACK_DIR), a worker, seeds the demo and runs the demo migration through every phase. It must exit 0
 * and print the report of a completed, verified migration of every seeded document, and the web UI link.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../local/temporal-server';

const ROOT = path.resolve(__dirname, '..', '..');
const DOCS = 600;

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [require.resolve('tsx/cli'), 'scripts/start.ts', ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm start -- --once', () => {
  let stackDir: string;

  beforeAll(() => {
    stackDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmos-runbook-start-'));
  });
  afterAll(() => {
    fs.rmSync(stackDir, { recursive: true, force: true });
  });

  test('runs the demo migration through every phase and exits 0 with the report', async () => {
    const [temporalPort, uiPort, cosmosPort, armPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const { code, stdout, stderr } = await run(
      [
        '--once',
        '--docs',
        String(DOCS),
        '--temporal-port',
        String(temporalPort),
        '--temporal-ui-port',
        String(uiPort),
        '--cosmos-port',
        String(cosmosPort),
        '--arm-port',
        String(armPort),
      ],
      // TEMPORAL_ADDRESS of the test run's server must not leak into the demo: it brings up its own stack.
      { ...process.env, STACK_DIR: stackDir, TEMPORAL_ADDRESS: '', FORCE_COLOR: '0' }
    );
    if (code !== 0) throw new Error(`npm start exited ${code}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);

    // Every phase of the runbook, in order.
    const phases = [
      'preflight',
      'awaiting-approval',
      'snapshot',
      'migrating',
      'catching-up',
      'verifying',
      'monitoring',
      'completed',
    ];
    const positions = phases.map((phase) => stdout.indexOf(`→ ${phase}`));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);

    expect(stdout).toContain('auto-approving the demo in 3s — in production a human runs `npm run migrate -- approve');
    expect(stdout).toContain('# Migration 001-split-customer-name (up): Completed and verified');
    // scanned | migrated | skipped | failed: every seeded customer migrated, none failed.
    expect(stdout).toMatch(new RegExp(`\\| ${DOCS} \\| ${DOCS} \\| 0 \\| 0 \\|`));
    expect(stdout).toContain('001-split-customer-name up completed and verified on demo/customers');
    expect(stdout).toContain(
      `web UI: http://localhost:${uiPort}/namespaces/default/workflows/${encodeURIComponent('cosmos-runbook/local-account/demo/customers')}`
    );
    // A clean shutdown: nothing left that claims the stack is up.
    expect(fs.existsSync(path.join(stackDir, 'stack.env'))).toBe(false);
  }, 300_000);
});
