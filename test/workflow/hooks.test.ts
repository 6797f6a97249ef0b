/**
 * The hooks activities against real processes and a real HTTP server: notify POSTs Slack-compatible JSON to every
 * webhook and names (without its secret path) the one that fails; stop/start-app run the configured command;
 * health checks report each check.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../common/errors';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createHookActivities } from '../../activities/hooks';

let server: http.Server;
let base: string;
const received: { url: string; body: unknown }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ url: req.url ?? '', body: body ? JSON.parse(body) : undefined });
      res.statusCode = req.url?.startsWith('/fail') ? 500 : 200;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

const event = {
  migrationId: 'm1',
  workflowId: 'wf1',
  phase: 'migrating',
  previousPhase: 'snapshot',
  level: 'info' as const,
  message: 'go',
};

test('notify POSTs {text, ...event} to every webhook', async () => {
  received.length = 0;
  const { notify } = createHookActivities({ notify: { webhooks: [`${base}/a`, `${base}/b`] } });
  await new MockActivityEnvironment().run(notify, event);
  expect(received.map((r) => r.url).sort()).toEqual(['/a', '/b']);
  expect(received[0]!.body).toEqual({
    text: ':information_source: migration *m1* (wf1): snapshot → migrating. go',
    ...event,
  });
});

test('rollbackCutover (HOOKS_CONFIG) runs as hook rollback-cutover, in the rolling-back phase', async () => {
  const hooks = createHookActivities({
    cutover: { command: 'exit 7' },
    rollbackCutover: { command: 'test "$MIGRATION_ID/$HOOK/$PHASE" = m1/rollback-cutover/rolling-back' },
  });
  expect(
    await new MockActivityEnvironment().run(hooks.runHook, {
      hook: 'rollback-cutover' as const,
      migrationId: 'm1',
      workflowId: 'wf1',
    })
  ).toEqual({ ran: true });
});

test('a failing webhook is named by host only (its path may hold a token)', async () => {
  const { notify } = createHookActivities({ notify: { webhooks: [`${base}/ok`, `${base}/fail/T000/SECRET`] } });
  const err = await new MockActivityEnvironment().run(notify, event).catch((e: Error) => e);
  expect((err as Error).message).toBe(`notification failed: webhook #2 (${new URL(base).host}): HTTP 500`);
  expect((err as Error).message).not.toContain('SECRET');
});

test('stop-app runs the configured command with the run in its environment; a failure says why', async () => {
  const ok = createHookActivities({
    stopApp: { command: 'test "$MIGRATION_ID/$WORKFLOW_ID/$HOOK" = m1/wf1/stop-app' },
  });
  expect(
    await new MockActivityEnvironment().run(ok.runHook, {
      hook: 'stop-app' as const,
      migrationId: 'm1',
      workflowId: 'wf1',
    })
  ).toEqual({ ran: true });
  expect(
    await new MockActivityEnvironment().run(ok.runHook, {
      hook: 'start-app' as const,
      migrationId: 'm1',
      workflowId: 'wf1',
    })
  ).toEqual({ ran: false });

  const failing = createHookActivities({ startApp: { command: 'echo "deploy not found" >&2; exit 3' } });
  const err = await new MockActivityEnvironment()
    .run(failing.runHook, { hook: 'start-app' as const, migrationId: 'm1', workflowId: 'wf1' })
    .catch((e: Error) => e);
  expect((err as Error).message).toBe('start-app hook failed: exit code 3: deploy not found');

  const slow = createHookActivities({ stopApp: { command: 'sleep 5', timeoutSeconds: 0.3 } });
  const timedOut = await new MockActivityEnvironment()
    .run(slow.runHook, { hook: 'stop-app' as const, migrationId: 'm1', workflowId: 'wf1' })
    .catch((e: Error) => e);
  expect((timedOut as Error).message).toBe('stop-app hook failed: timed out after 0.3s');
});

test('a hook resolved once: a worker whose HOOKS_CONFIG has another stop-app hook (or none) refuses to run it, by name, never showing the command', async () => {
  const log = path.join(os.tmpdir(), `hooks-${process.pid}-${Date.now()}.log`);
  const decided = createHookActivities({ stopApp: { command: `echo decided >> ${log}` } });
  const other = createHookActivities({ stopApp: { command: `echo other >> ${log}` } });
  const none = createHookActivities({});
  const described = await decided.describeHooks();
  const recorded = described.fingerprints?.stopApp;
  expect(recorded).toMatch(/^[0-9a-f]{16}$/);
  expect(JSON.stringify(described)).not.toContain('echo');
  const input = { hook: 'stop-app' as const, migrationId: 'm1', workflowId: 'wf1', expected: recorded };
  for (const worker of [other, none]) {
    const refused = await new MockActivityEnvironment().run(worker.runHook, input).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused).toMatchObject({ type: ErrorType.HooksConfigMismatch, nonRetryable: false });
    expect((refused as Error).message).toContain(
      `the run decided on the stop-app hook with one (${recorded}) configured`
    );
    expect((refused as Error).message).not.toContain('echo');
  }
  // Recorded as absent: a worker that has one refuses too (the consent was given without a stop-app hook).
  const absent = await new MockActivityEnvironment()
    .run(decided.runHook, { ...input, expected: null })
    .catch((e: unknown) => e);
  expect(absent).toMatchObject({ type: ErrorType.HooksConfigMismatch });
  expect(fs.existsSync(log)).toBe(false);
  // The worker configured as recorded runs it.
  expect(await new MockActivityEnvironment().run(decided.runHook, input)).toEqual({ ran: true });
  expect(fs.readFileSync(log, 'utf8')).toBe('decided\n');
  fs.rmSync(log);
});

test('health checks report every check, by command or URL', async () => {
  const { healthCheck } = createHookActivities({
    healthChecks: [
      { name: 'cmd-ok', command: 'true' },
      { name: 'url-ok', url: `${base}/health` },
      { name: 'url-bad', url: `${base}/fail` },
    ],
  });
  expect(await new MockActivityEnvironment().run(healthCheck, { migrationId: 'm1', workflowId: 'wf1' })).toEqual({
    ok: false,
    checks: [
      { name: 'cmd-ok', ok: true },
      { name: 'url-ok', ok: true },
      { name: 'url-bad', ok: false, detail: 'HTTP 500' },
    ],
  });
  const none = createHookActivities({});
  expect(await new MockActivityEnvironment().run(none.healthCheck, { migrationId: 'm1', workflowId: 'wf1' })).toEqual({
    ok: true,
    checks: [],
  });
});
