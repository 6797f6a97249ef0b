/**
 * startTestStack(): a private emulator + ARM imitation per test file, on free ports, reachable with the product's own
 * clients and pointing at the run's shared Temporal server; close() leaves nothing behind.
 */
import fs from 'node:fs';
import { httpsAnswers } from '../../local/readiness';
import { startTestStack, type TestStack } from '../support/stack';

let stack: TestStack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

test('the product clients reach a private stack, and close() stops it and removes its folder', async () => {
  stack = await startTestStack();
  const { env, settings } = stack;

  expect(env.TEMPORAL_ADDRESS).toBe(process.env.TEMPORAL_ADDRESS);
  for (const endpoint of [env.COSMOS_ENDPOINT, env.ARM_ENDPOINT]) {
    const port = Number(new URL(endpoint).port);
    expect([0, 8081, 8443, 7233, 8233]).not.toContain(port);
  }
  expect(settings.cosmosEndpoint).toBe(stack.cosmos.endpoint);
  expect(settings.armEndpoint).toBe(stack.arm.endpoint);

  const cosmos = stack.cosmosClient();
  const { database } = await cosmos.databases.createIfNotExists({ id: 'support' });
  const { container } = await database.containers.createIfNotExists({ id: 'c', partitionKey: { paths: ['/pk'] } });
  await container.items.upsert({ id: '1', pk: 'x', value: 'kept' });
  const { resource } = await container.item('1', 'x').read<{ value: string }>();
  expect(resource?.value).toBe('kept');

  const account = await stack.armClient().databaseAccounts.get(settings.resourceGroup, settings.account);
  expect(account.documentEndpoint).toBe(env.COSMOS_ENDPOINT);

  const { dir } = stack;
  const ca = fs.readFileSync(env.NODE_EXTRA_CA_CERTS, 'utf8');
  expect(await httpsAnswers(env.COSMOS_ENDPOINT, ca)).toBe(true);
  expect(await httpsAnswers(env.ARM_ENDPOINT, ca)).toBe(true);
  await stack.close();
  stack = undefined;
  expect(fs.existsSync(dir)).toBe(false);
  expect(await httpsAnswers(env.COSMOS_ENDPOINT, ca)).toBe(false);
  expect(await httpsAnswers(env.ARM_ENDPOINT, ca)).toBe(false);
});

test('two stacks side by side do not share data', async () => {
  stack = await startTestStack();
  const other = await startTestStack();
  try {
    await stack.cosmosClient().databases.createIfNotExists({ id: 'only-here' });
    const { resources } = await other.cosmosClient().databases.readAll().fetchAll();
    expect(resources.map((db) => db.id)).not.toContain('only-here');
  } finally {
    await other.close();
  }
});
