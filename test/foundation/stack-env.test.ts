/** .local/stack.env is read the same by dotenv, by a POSIX shell and by readStackEnv, keys included. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dotenv from 'dotenv';
import { readStackEnv, STACK_ENV_KEYS, writeStackEnv, type StackEnv } from '../../local/stack-env';
import { processStartTicks, stackOwner } from '../../worker/stack-file';

const sample: StackEnv = {
  TEMPORAL_ADDRESS: '127.0.0.1:7233',
  TEMPORAL_NAMESPACE: 'default',
  TEMPORAL_TASK_QUEUE: 'cosmos-runbook',
  TEMPORAL_UI_URL: 'http://localhost:8233',
  COSMOS_ENDPOINT: 'https://127.0.0.1:8081/',
  COSMOS_KEY: 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==',
  AZURE_SUBSCRIPTION_ID: '00000000-0000-4000-8000-000000000001',
  AZURE_RESOURCE_GROUP: 'local-rg',
  COSMOS_ACCOUNT: 'local-account',
  ARM_ENDPOINT: 'https://127.0.0.1:8443',
  NODE_EXTRA_CA_CERTS: '/home/dev/cosmos-runbook/.local/certs/stack-cert.pem',
  LOCAL_ARM_TOKEN: 'Zq3-_x9',
};

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-env-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('dotenv, a shell and readStackEnv all read back exactly what was written', () => {
  const file = writeStackEnv(dir, sample);
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  const parsed = dotenv.parse(fs.readFileSync(file, 'utf8'));
  // The variables, and the process that owns the stack (this one wrote it), so a stale file can be recognised.
  const { LOCAL_STACK_PID, LOCAL_STACK_PID_START, ...vars } = parsed;
  expect(vars).toEqual(sample);
  expect(LOCAL_STACK_PID).toBe(String(process.pid));
  expect(LOCAL_STACK_PID_START).toBe(processStartTicks(process.pid));
  expect(stackOwner(parsed)).toEqual({ running: true, pid: process.pid });
  expect(readStackEnv(dir)).toEqual(sample);

  const printed = execFileSync('sh', ['-c', `set -a; . "${file}"; set +a; node -p 'JSON.stringify(process.env)'`], {
    env: { PATH: process.env.PATH },
    encoding: 'utf8',
  });
  const shellEnv = JSON.parse(printed) as Record<string, string>;
  for (const key of STACK_ENV_KEYS) expect(shellEnv[key]).toBe(sample[key]);
});

test('a value a shell would mangle is refused, and a broken file names its missing keys', () => {
  expect(() => writeStackEnv(dir, { ...sample, NODE_EXTRA_CA_CERTS: '/home/my dir/cert.pem' })).toThrow(
    'stack.env: NODE_EXTRA_CA_CERTS has characters a shell would mangle'
  );
  fs.writeFileSync(path.join(dir, 'stack.env'), 'TEMPORAL_ADDRESS=127.0.0.1:7233\n');
  expect(() => readStackEnv(dir)).toThrow(
    /lacks TEMPORAL_NAMESPACE, .*LOCAL_ARM_TOKEN; run `npm run stack -- up` again/
  );
  expect(readStackEnv(path.join(dir, 'nowhere'))).toBeUndefined();
});

test('a stack.env whose process has exited, or whose pid now names another process, is not running', async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['-e', '0']);
  const pid = child.pid!;
  await new Promise((resolve) => child.on('exit', resolve));
  expect(stackOwner({ LOCAL_STACK_PID: String(pid) })).toEqual({
    running: false,
    why: `its stack (pid ${pid}) is not running`,
  });
  // Alive, but started at another time than the process that wrote the file: a recycled pid.
  expect(stackOwner({ LOCAL_STACK_PID: String(process.pid), LOCAL_STACK_PID_START: '1' })).toMatchObject({
    running: false,
  });
  expect(stackOwner({})).toMatchObject({ running: false, why: expect.stringContaining('names no LOCAL_STACK_PID') });
});
