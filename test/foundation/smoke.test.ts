/**
 * `npm run smoke -- --local`: the smoke test for a real account, run on the same code path against a local stack
 * it starts (the Cosmos emulator and the ARM imitation; Temporal: the test run's dev server, TEMPORAL_ADDRESS). Every
 * step passes (plan; a run rolled back by each strategy, the documents as seeded after each; a completed run; a
 * drill) and it deletes what it created.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

test('npm run smoke -- --local passes every step and cleans up', async () => {
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve) => {
      const child = spawn(
        process.execPath,
        [require.resolve('tsx/cli'), 'scripts/smoke.ts', '--local', '--documents', '30'],
        {
          cwd: ROOT,
          env: { PATH: process.env.PATH, TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS },
          stdio: ['ignore', 'pipe', 'pipe'],
        }
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('exit', (exit) => resolve({ code: exit, stdout: out, stderr: err }));
    }
  );
  if (code !== 0) throw new Error(`smoke exited ${code}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);
  const steps = stdout.split('\n').filter((l) => /^(ok|FAIL)/.test(l));
  expect(steps.map((l) => /^(ok|FAIL) +(.+?) +\d+\.\d s/.exec(l)?.slice(1, 3).join(' '))).toEqual([
    'ok create a container of its own',
    'ok plan',
    'ok migrate, verify, roll back by down',
    'ok migrate, verify, roll back by preimages',
    'ok migrate, verify, roll back by restore',
    'ok migrate and verify (approved)',
    'ok restore drill',
    'ok delete everything it created',
  ]);
  // Each step with its duration, and RU where it spends some.
  expect(steps[1]).toMatch(/ \d+\.\d s +[1-9][\d,]* RU  /);
  expect(stdout).toMatch(/^smoke passed: 8\/8 steps in /m);
}, 600_000);
