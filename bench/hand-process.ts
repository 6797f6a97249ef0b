/**
 * The bench's hand-written loops and its application, each in a Node process of its own (spawned by bench/hand.ts),
 * so that they run as the product's worker does: off the event loop of the emulator and the ARM imitation, which
 * stay alone in the bench's process. The same Cosmos client as the worker (activities/clients.ts
 * createCosmosClient, from the stack's environment).
 *
 * Protocol (stdin/stdout lines): the process connects and warms its client (the container and its partition key
 * ranges read once), prints `ready`, waits for `go`, runs, and prints `result <json>`. The application runs until
 * `stop`; `mark <label>` starts counting its requests under a new label (e.g. alone, then beside the migration).
 *
 * argv[2]: a JSON HandRequest (bench/hand.ts).
 */
import readline from 'node:readline';
import type { Container } from '@azure/cosmos';
import { createCosmosClient } from '../activities/clients';
import { azureSettingsFromStackEnv, type StackEnv } from '../local/stack-env';
import { bulkLoop, sequentialLoop } from './loops';
import { application } from './application';
import { DATABASE } from './data';
import type { HandRequest } from './hand';

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '{}') as HandRequest;
  const cosmos = createCosmosClient(azureSettingsFromStackEnv(process.env as unknown as StackEnv));
  const container: Container = cosmos.database(DATABASE).container(request.container);
  await container.read();
  await container.readPartitionKeyRanges().fetchAll();
  const lines = readline.createInterface({ input: process.stdin });
  const commands: string[] = [];
  const waiters: (() => void)[] = [];
  lines.on('line', (line) => {
    commands.push(line.trim());
    for (const wake of waiters.splice(0)) wake();
  });
  const next = async (): Promise<string> => {
    while (commands.length === 0) await new Promise<void>((resolve) => waiters.push(resolve));
    return commands.shift()!;
  };
  process.stdout.write('ready\n');
  while ((await next()) !== 'go');

  let result: unknown;
  if (request.mode === 'app') {
    const app = application(container, request);
    for (;;) {
      const command = await next();
      if (command === 'stop') break;
      if (command.startsWith('mark ')) app.mark(command.slice(5));
    }
    result = await app.stop();
  } else {
    const started = process.hrtime.bigint();
    const written =
      request.mode === 'bulk' ? await bulkLoop(container) : await sequentialLoop(container, request.limit ?? Infinity);
    result = { written, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  }
  process.stdout.write(`result ${JSON.stringify(result)}\n`);
  lines.close();
  cosmos.dispose();
}

main().catch((err: unknown) => {
  process.stderr.write(`bench hand process: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
