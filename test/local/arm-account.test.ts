/**
 * The ARM imitation's account endpoint, authentication and error shapes, through the real @azure/arm-cosmosdb client.
 */
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { RestError } from '@azure/core-rest-pipeline';
import { createArmClient } from '../../activities/clients';
import { startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ armOptions: { operationDelayMs: 50 } });
});

afterAll(async () => {
  await stack?.close();
});

function rejection(promise: Promise<unknown>): Promise<RestError> {
  return promise.then(
    () => {
      throw new Error('expected the request to be refused');
    },
    (err: unknown) => err as RestError
  );
}

describe('database account', () => {
  afterEach(() => stack.arm.control.setBackupPolicy({ type: 'Continuous' }));

  test('reports the emulator endpoint, the region and a stable instance id', async () => {
    const arm = stack.armClient();
    const { resourceGroup, account } = stack.settings;
    const first = await arm.databaseAccounts.get(resourceGroup, account);
    const second = await arm.databaseAccounts.get(resourceGroup, account);
    expect(first.name).toBe(account);
    expect(first.documentEndpoint).toBe(stack.cosmos.endpoint);
    expect(first.location).toBe('West US');
    expect(first.writeLocations?.[0]).toMatchObject({ locationName: 'West US', failoverPriority: 0 });
    expect(first.instanceId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(second.instanceId).toBe(first.instanceId);
  });

  test('priority-based execution: off by default as on Azure, switched by PATCH (an LRO), which the emulator follows', async () => {
    const arm = stack.armClient();
    const { resourceGroup, account } = stack.settings;
    expect(await arm.databaseAccounts.get(resourceGroup, account)).toMatchObject({
      enablePriorityBasedExecution: false,
      defaultPriorityLevel: 'High',
    });
    await arm.databaseAccounts.beginUpdateAndWait(resourceGroup, account, { enablePriorityBasedExecution: true });
    expect((await arm.databaseAccounts.get(resourceGroup, account)).enablePriorityBasedExecution).toBe(true);
    expect(stack.cosmos.control.priorityBasedExecution()).toBe(true);
    try {
      const updated = await arm.databaseAccounts.beginUpdateAndWait(resourceGroup, account, {
        enablePriorityBasedExecution: false,
      });
      expect(updated.enablePriorityBasedExecution).toBe(false);
      expect((await arm.databaseAccounts.get(resourceGroup, account)).enablePriorityBasedExecution).toBe(false);
      expect(stack.cosmos.control.priorityBasedExecution()).toBe(false);
      // What it does not model, it refuses whole.
      const refused = await rejection(
        arm.databaseAccounts.beginUpdateAndWait(resourceGroup, account, {
          enablePriorityBasedExecution: true,
          enableAutomaticFailover: true,
        })
      );
      expect(refused.statusCode).toBe(400);
      expect(refused.message).toMatch(/models only enablePriorityBasedExecution, not enableAutomaticFailover/);
      expect(stack.cosmos.control.priorityBasedExecution()).toBe(false);
      const unknown = await rejection(
        arm.databaseAccounts.beginUpdateAndWait(resourceGroup, 'no-such-account', {
          enablePriorityBasedExecution: true,
        })
      );
      expect(unknown.statusCode).toBe(404);
    } finally {
      await arm.databaseAccounts.beginUpdateAndWait(resourceGroup, account, { enablePriorityBasedExecution: false });
    }
    expect(stack.cosmos.control.priorityBasedExecution()).toBe(false);
  });

  test('reads each backup policy variant', async () => {
    const arm = stack.armClient();
    const { resourceGroup, account } = stack.settings;
    const policy = async () => (await arm.databaseAccounts.get(resourceGroup, account)).backupPolicy;

    expect(await policy()).toEqual({ type: 'Continuous', continuousModeProperties: { tier: 'Continuous30Days' } });

    stack.arm.control.setBackupPolicy({ type: 'Continuous', tier: 'Continuous7Days' });
    expect(await policy()).toEqual({ type: 'Continuous', continuousModeProperties: { tier: 'Continuous7Days' } });

    stack.arm.control.setBackupPolicy({ type: 'Periodic' });
    expect(await policy()).toMatchObject({
      type: 'Periodic',
      periodicModeProperties: { backupIntervalInMinutes: 240, backupRetentionIntervalInHours: 8 },
    });
  });

  test('a periodic account is not restorable; a continuous one is, from its creation', async () => {
    const arm = stack.armClient();
    const account = await arm.databaseAccounts.get(stack.settings.resourceGroup, stack.settings.account);
    const restorable = async () => {
      const found = [];
      for await (const entry of arm.restorableDatabaseAccounts.listByLocation('West US')) found.push(entry);
      return found;
    };
    const [entry, ...others] = await restorable();
    expect(others).toEqual([]);
    expect(entry).toMatchObject({ name: account.instanceId, accountName: stack.settings.account, apiType: 'Sql' });
    expect(entry?.creationTime?.getTime()).toBeLessThanOrEqual(Date.now());
    expect(entry?.oldestRestorableTime).toEqual(entry?.creationTime);
    expect(entry?.id).toBe(
      `/subscriptions/${stack.settings.subscriptionId}/providers/Microsoft.DocumentDB/locations/westus/restorableDatabaseAccounts/${account.instanceId}`
    );

    stack.arm.control.setBackupPolicy({ type: 'Periodic' });
    expect(await restorable()).toEqual([]);
    const refused = await rejection(arm.restorableDatabaseAccounts.getByLocation('westus', account.instanceId ?? ''));
    expect(refused.statusCode).toBe(404);
    expect(refused.message).toContain('periodic backup');
  });
});

describe('authentication and protocol errors', () => {
  test('a wrong bearer token is refused with 401 AuthenticationFailed', async () => {
    const arm = createArmClient({ ...stack.settings, armToken: 'not-the-token' });
    const err = await rejection(arm.databaseAccounts.get(stack.settings.resourceGroup, stack.settings.account));
    expect(err.statusCode).toBe(401);
    expect(err.code).toBe('AuthenticationFailed');
  });

  test('a request without a token is refused with 401 AuthenticationFailed', async () => {
    const arm = stack.armClient();
    arm.pipeline.removePolicy({ name: 'bearerTokenAuthenticationPolicy' });
    const err = await rejection(arm.databaseAccounts.get(stack.settings.resourceGroup, stack.settings.account));
    expect(err.statusCode).toBe(401);
    expect(err.code).toBe('AuthenticationFailed');
    expect(err.message).toContain("'Authorization' header is missing");
  });

  test('a request without api-version is refused with 400', async () => {
    const arm = stack.armClient();
    const { subscriptionId, resourceGroup, account } = stack.settings;
    const response = await arm.sendRequest(
      createPipelineRequest({
        url: `${stack.arm.endpoint}/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.DocumentDB/databaseAccounts/${account}`,
        method: 'GET',
      })
    );
    expect(response.status).toBe(400);
    expect(JSON.parse(response.bodyAsText ?? '{}')).toMatchObject({ error: { code: 'MissingApiVersionParameter' } });
  });

  test('a missing container is a 404 with the RP top-level body naming the resource', async () => {
    const arm = stack.armClient();
    const { resourceGroup, account } = stack.settings;
    await arm.sqlResources.beginCreateUpdateSqlDatabaseAndWait(
      resourceGroup,
      account,
      'errors-db',
      { resource: { id: 'errors-db' } },
      { updateIntervalInMs: 20 }
    );
    const err = await rejection(arm.sqlResources.getSqlContainer(resourceGroup, account, 'errors-db', 'no-such'));
    expect(err.statusCode).toBe(404);
    // Top-level {code,message} (not the ARM envelope): the SDK leaves `code` unset and the message is the raw body.
    expect(err.code).toBeUndefined();
    const body = JSON.parse(err.message) as { code: string; message: string };
    expect(body.code).toBe('NotFound');
    expect(body.message).toContain('Request URI: /dbs/errors-db/colls/no-such');

    const missingDb = await rejection(arm.sqlResources.getSqlDatabase(resourceGroup, account, 'no-such-db'));
    expect(missingDb.statusCode).toBe(404);
    expect(missingDb.message).toContain('/dbs/no-such-db');
  });

  test('another account name is a 404 ResourceNotFound', async () => {
    const arm = stack.armClient();
    const err = await rejection(arm.databaseAccounts.get(stack.settings.resourceGroup, 'someone-else'));
    expect(err.statusCode).toBe(404);
    expect(err.code).toBe('ResourceNotFound');
  });
});

describe('fault injection', () => {
  afterEach(() => stack.arm.control.setFaults([]));

  test('a 429 with Retry-After is retried by the SDK; without it, it surfaces', async () => {
    const arm = stack.armClient();
    const { resourceGroup, account } = stack.settings;
    stack.arm.control.setFaults([
      { method: 'GET', pathContains: '/databaseAccounts/', status: 429, retryAfterSeconds: 1, times: 1 },
    ]);
    const started = Date.now();
    expect((await arm.databaseAccounts.get(resourceGroup, account)).name).toBe(account);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);

    stack.arm.control.setFaults([{ status: 429, times: 1 }]);
    const err = await rejection(arm.databaseAccounts.get(resourceGroup, account));
    expect(err.statusCode).toBe(429);
    expect(err.code).toBe('SubscriptionRequestsThrottled');
    expect((await arm.databaseAccounts.get(resourceGroup, account)).name).toBe(account);
  });

  test('a 503 on the status URL is retried and the operation still completes', async () => {
    const arm = stack.armClient();
    const { resourceGroup, account } = stack.settings;
    const createDb = (name: string) =>
      arm.sqlResources.beginCreateUpdateSqlDatabaseAndWait(
        resourceGroup,
        account,
        name,
        { resource: { id: name } },
        { updateIntervalInMs: 20 }
      );
    // More 503s than the SDK's three retries: the poller gives up with the 503.
    stack.arm.control.setFaults([{ pathContains: '/operationsStatus/', status: 503, retryAfterSeconds: 0, times: 10 }]);
    expect((await rejection(createDb('doomed-db'))).statusCode).toBe(503);

    stack.arm.control.setFaults([{ pathContains: '/operationsStatus/', status: 503, retryAfterSeconds: 0, times: 2 }]);
    const created = await arm.sqlResources.beginCreateUpdateSqlDatabaseAndWait(
      resourceGroup,
      account,
      'faulty-db',
      { resource: { id: 'faulty-db' } },
      { updateIntervalInMs: 20 }
    );
    expect(created.resource?.id).toBe('faulty-db');
  });
});
