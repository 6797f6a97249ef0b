/**
 * Scripts for an identity of Microsoft Entra ID: the data plane refuses it script reads and writes (403, substatus
 * 5300: local/cosmos/entra-scripts.ts, as Azure does), so exportScripts and recreateScripts (activities/cosmos/scripts.ts)
 * fall back to ARM's sqlStoredProcedures / sqlTriggers / sqlUserDefinedFunctions, served by the ARM imitation
 * (local/arm/scripts.ts) through the real @azure/arm-cosmosdb client. The same scripts come out, and go back, as
 * through the data plane with a key.
 */
import { CosmosClient } from '@azure/cosmos';
import type { TokenCredential } from '@azure/core-auth';
import { cosmosClientOptions } from '../../activities/clients';
import { actionOf, actionsFor } from '../../activities/arm/actions';
import { exportScripts, recreateScripts, type ScriptDeps } from '../../activities/cosmos/scripts';
import { freshContainer, startEngineStack, type EngineStack } from './support';

jest.setTimeout(120_000);

let engine: EngineStack;
let entra: CosmosClient;

/** A token the emulator accepts (it checks no signature); the SDK sends `type=aad&ver=1.0&sig=<token>`. */
const credential: TokenCredential = {
  getToken: () => Promise.resolve({ token: 'entra-test-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

beforeAll(async () => {
  engine = await startEngineStack();
  const { key: _key, ...options } = cosmosClientOptions(engine.stack.settings);
  entra = new CosmosClient({ ...options, aadCredentials: credential });
});

afterAll(async () => {
  entra?.dispose();
  await engine?.close();
});

const scripts = {
  storedProcedures: [{ id: 'touch', body: 'function touch() { getContext().getResponse().setBody(1); }' }],
  triggers: [
    {
      id: 'stamp',
      body: 'function stamp() { var d = getContext().getRequest().getBody(); d.stamped = true; getContext().getRequest().setBody(d); }',
      triggerType: 'Pre',
      triggerOperation: 'Create',
    },
  ],
  userDefinedFunctions: [{ id: 'twice', body: 'function twice(n) { return 2 * n; }' }],
};

test('the data plane refuses an Entra identity the scripts (403, 5300), not the documents nor running a procedure', async () => {
  const keyed = await freshContainer(engine.deps, 'entra');
  await keyed.scripts.storedProcedures.create(scripts.storedProcedures[0]!);
  const asEntra = entra.database('entra').container(keyed.id);
  await expect(asEntra.scripts.storedProcedures.readAll().fetchAll()).rejects.toMatchObject({
    code: 403,
    substatus: 5300,
    message: expect.stringContaining('cannot be authorized by AAD token in data plane') as unknown,
  });
  await expect(asEntra.scripts.userDefinedFunctions.create(scripts.userDefinedFunctions[0]!)).rejects.toMatchObject({
    code: 403,
  });
  await asEntra.items.create({ id: 'd1', tenantId: 't1' });
  const ran = await asEntra.scripts.storedProcedure('touch').execute('t1');
  expect(ran.resource).toBe(1);
});

test('export and re-create through ARM for an Entra identity: the same scripts as through the data plane with a key', async () => {
  const keyed = await freshContainer(engine.deps, 'entra');
  const ref = { database: 'entra', container: keyed.id };
  await keyed.scripts.storedProcedures.create(scripts.storedProcedures[0]!);
  await keyed.scripts.triggers.create(scripts.triggers[0] as never);
  await keyed.scripts.userDefinedFunctions.create(scripts.userDefinedFunctions[0]!);
  const withKey = await exportScripts(engine.deps, ref);
  expect(withKey).toEqual(scripts);

  const entraDeps: ScriptDeps = { ...engine.deps, cosmos: entra };
  const before = engine.stack.arm.control.requests().length;
  expect(await exportScripts(entraDeps, ref)).toEqual(withKey);
  const armPaths = engine.stack.arm.control
    .requests()
    .slice(before)
    .map((r) => `${r.method} ${r.path.split('/').slice(-1)[0]}`);
  expect(armPaths).toEqual(['GET storedProcedures', 'GET triggers', 'GET userDefinedFunctions']);

  // Gone (as after a point-in-time restore, which does not bring scripts back), then re-created through ARM.
  await keyed.scripts.storedProcedure('touch').delete();
  await keyed.scripts.trigger('stamp').delete();
  await keyed.scripts.userDefinedFunction('twice').delete();
  expect(await recreateScripts(entraDeps, ref, withKey)).toEqual([
    'stored procedure touch',
    'trigger stamp',
    'user-defined function twice',
  ]);
  expect(await exportScripts(engine.deps, ref)).toEqual(withKey);
  // Nothing left to write: a retry changes nothing.
  expect(await recreateScripts(entraDeps, ref, withKey)).toEqual([]);

  // Every ARM request of the fallback is one the restore's role definition grants (docs/production.md).
  const served = engine.stack.arm.control.requests().slice(before);
  const granted = new Set(actionsFor('with-restore'));
  expect(served.filter((r) => !granted.has(actionOf(r) ?? '(none)'))).toEqual([]);
});
