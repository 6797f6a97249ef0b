/**
 * The Temporal dev server on a free port (local/temporal-server.ts): `temporal server start-dev` cannot take port 0
 * itself, so the port is chosen first (freePort) and bound by the server later. Here another process takes the chosen
 * port in between, as a busy machine does: the server fails to bind, and the start is tried again on another free port
 * with the reason logged. A port the user gave is never swapped for another: it fails naming the port.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PortInUseError } from '../../local/readiness';
import { freePort, startTemporalDevServer, temporalServing, type TemporalDevServer } from '../../local/temporal-server';

const cli = () => {
  const path = process.env.TEMPORAL_CLI_PATH;
  if (!path) throw new Error('TEMPORAL_CLI_PATH is not set (test/support/global-setup.ts sets it)');
  return path;
};

/**
 * Another process's listener on `port` (here: this one's), as a port thief would hold it. It drops every connection
 * (the start's health checks reach it too), so closing it does not wait for them.
 */
async function hold(port: number): Promise<net.Server> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

let dir: string;
const holders: net.Server[] = [];
let server: TemporalDevServer | undefined;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmos-runbook-port-race-'));
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
  for (const holder of holders.splice(0)) await new Promise((resolve) => holder.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a port taken after freePort() chose it: the server cannot bind it, the start is tried on another port and it serves', async () => {
  const lines: string[] = [];
  let taken: number | undefined;
  const logFile = path.join(dir, 'temporal.log');
  server = await startTemporalDevServer({
    cli: cli(),
    port: 0,
    uiPort: false,
    logFile,
    log: (line) => lines.push(line),
    // The first port freePort() hands out is grabbed before the server binds it.
    choosePort: async () => {
      const port = await freePort();
      if (taken === undefined) {
        taken = port;
        holders.push(await hold(port));
      }
      return port;
    },
  });

  expect(taken).toBeDefined();
  expect(server.port).not.toBe(taken);
  expect(server.address).toBe(`127.0.0.1:${server.port}`);
  expect(await temporalServing(server.address)).toBe(true);
  // The server itself hit the taken port (no check of ours stood in front of it), and the retry says why.
  expect(fs.readFileSync(logFile, 'utf8')).toContain(`127.0.0.1:${taken}: bind: address already in use`);
  expect(lines).toEqual([
    `Temporal dev server could not bind: port ${taken} (Temporal gRPC) is already in use (taken after it was chosen); ` +
      'start 2 of at most 4 on another free port',
  ]);
});

test('every chosen port taken: it gives up after bindAttempts starts with PortInUseError naming the last port', async () => {
  const chosen: number[] = [];
  const lines: string[] = [];
  const start = startTemporalDevServer({
    cli: cli(),
    port: 0,
    uiPort: false,
    logFile: path.join(dir, 'temporal.log'),
    bindAttempts: 2,
    log: (line) => lines.push(line),
    choosePort: async () => {
      const port = await freePort();
      chosen.push(port);
      holders.push(await hold(port));
      return port;
    },
  });
  await expect(start).rejects.toThrow(PortInUseError);
  await expect(start).rejects.toThrow(`port ${chosen[1]} (Temporal gRPC) is already in use`);
  expect(chosen).toHaveLength(2);
  expect(lines).toHaveLength(1);
});

test('a port the user gave is never swapped: taken, it fails with "port N (Temporal gRPC) is already in use"', async () => {
  const port = await freePort();
  holders.push(await hold(port));
  let chose = 0;
  const start = startTemporalDevServer({
    cli: cli(),
    port,
    uiPort: false,
    logFile: path.join(dir, 'temporal.log'),
    choosePort: async () => {
      chose += 1;
      return freePort();
    },
  });
  await expect(start).rejects.toThrow(
    `port ${port} (Temporal gRPC) is already in use; stop what holds it or choose another port`
  );
  expect(chose).toBe(0);
});
