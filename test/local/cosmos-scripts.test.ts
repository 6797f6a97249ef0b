/**
 * Stored procedures and triggers through @azure/cosmos 4.9 (scripts.ts): CRUD, execution within a partition key
 * (queries see that key only; writes go through the engine), script logging, pre-triggers changing the document and
 * a trigger for another operation refused. `LOCAL_COSMOS_UNFIXED=scripts` makes these tests fail.
 */
import type { Container, ItemDefinition } from '@azure/cosmos';
import { startTestEmulator, type TestEmulator } from './cosmos-support';

interface Doc extends ItemDefinition {
  id: string;
  pk: string;
  n: number;
}

let emulator: TestEmulator;
let container: Container;

beforeAll(async () => {
  emulator = await startTestEmulator();
  const { database } = await emulator.client.databases.create({ id: 'scripts' });
  ({ container } = await database.containers.create({ id: 'docs', partitionKey: '/pk' }));
  for (let n = 0; n < 6; n++) await container.items.create<Doc>({ id: `d${n}`, pk: `k${n % 2}`, n });
}, 60_000);

afterAll(async () => {
  await emulator?.stop();
});

const code = (p: Promise<unknown>) =>
  p.then(
    () => 0,
    (err: { code?: number }) => err.code
  );

test('stored procedure: create, read, replace, delete; execute within a partition key', async () => {
  const { resource: created } = await container.scripts.storedProcedures.create({
    id: 'sumAndCopy',
    body: `function (suffix) {
      var c = getContext().getCollection();
      var res = getContext().getResponse();
      c.queryDocuments(c.getSelfLink(), 'SELECT VALUE r.n FROM r', {}, function (err, values) {
        if (err) throw err;
        var sum = values.reduce(function (a, b) { return a + b; }, 0);
        console.log('sum is %s', sum);
        c.createDocument(c.getSelfLink(), { id: 'sum-' + suffix, pk: 'k1', n: sum }, {}, function (err2, doc) {
          if (err2) throw err2;
          res.setBody({ sum: sum, id: doc.id });
        });
      });
    }`,
  });
  expect(created!.id).toBe('sumAndCopy');
  expect((await container.scripts.storedProcedure('sumAndCopy').read()).resource!.body).toBe(created!.body);

  const { resource, headers } = await container.scripts
    .storedProcedure('sumAndCopy')
    .execute<{ sum: number; id: string }>('k1', ['x'], { enableScriptLogging: true });
  expect(resource).toEqual({ sum: 1 + 3 + 5, id: 'sum-x' });
  expect(decodeURIComponent(String(headers['x-ms-documentdb-script-log-results']))).toBe('sum is 9');
  const { resource: written } = await container.item('sum-x', 'k1').read<Doc>();
  expect(written).toMatchObject({ id: 'sum-x', pk: 'k1', n: 9 });

  await container.scripts
    .storedProcedure('sumAndCopy')
    .replace({ id: 'sumAndCopy', body: 'function () { throw "no"; }' });
  expect(await code(container.scripts.storedProcedure('sumAndCopy').execute('k0'))).toBe(400);
  await container.scripts.storedProcedure('sumAndCopy').delete();
  expect(await code(container.scripts.storedProcedure('sumAndCopy').read())).toBe(404);
});

test('pre-trigger changes the document written; a trigger for another operation is refused', async () => {
  await container.scripts.triggers.create({
    id: 'stamp',
    body: `function () {
      var req = getContext().getRequest();
      var doc = req.getBody();
      doc.stamped = true;
      req.setBody(doc);
    }`,
    triggerType: 'Pre' as never,
    triggerOperation: 'Create' as never,
  });
  const { resource } = await container.items.create<Doc>(
    { id: 't1', pk: 'k0', n: 1 },
    { preTriggerInclude: ['stamp'] }
  );
  expect(resource).toMatchObject({ id: 't1', stamped: true });
  expect((await container.item('t1', 'k0').read()).resource).toMatchObject({ stamped: true });
  expect(
    await code(container.item('t1', 'k0').replace({ id: 't1', pk: 'k0', n: 2 }, { preTriggerInclude: ['stamp'] }))
  ).toBe(400);
  expect((await container.item('t1', 'k0').read<Doc>()).resource!.n).toBe(1);
});
