/**
 * The one bulk writer's rounds (activities/cosmos/bulk-writer.ts) on a scripted container: how items are cut into
 * requests, what is sent again after a throttled or lost request and after a transient answer to one operation, what
 * a 412 becomes, and what is charged. The emulator's end-to-end proofs (answers lost while an application writes,
 * 429 storms) are transient-faults.test.ts and ru-budget.test.ts; these pin each rule on its own, fast enough for the
 * mutation run (docs/reliability.md, "Mutation testing").
 */
import type { Container, JSONObject, OperationInput, OperationResponse, RequestOptions } from '@azure/cosmos';
import { BULK_LIMIT, BulkWriter, LOW_MINIMAL, MAX_TRANSIENT_PER_OPERATION } from '../../activities/cosmos/bulk-writer';
import { AdaptiveConcurrency, ChargeEstimate, RuBudget } from '../../activities/cosmos/ru-budget';

interface Sent {
  operations: OperationInput[];
  bulkOptions: unknown;
  requestOptions: RequestOptions | undefined;
}

/** A container whose `items.bulk` answers each request with `answer` (or throws what it throws). */
function scripted(answer: (operations: OperationInput[], call: number) => OperationResponse[]) {
  const sent: Sent[] = [];
  const container = {
    id: 'c',
    database: { id: 'd' },
    items: {
      bulk: async (operations: OperationInput[], bulkOptions: unknown, requestOptions?: RequestOptions) => {
        sent.push({ operations, bulkOptions, requestOptions });
        return answer(operations, sent.length);
      },
    },
  } as unknown as Container;
  return { container, sent };
}

const ok = (charge = 2, resourceBody?: JSONObject): OperationResponse => ({
  statusCode: 200,
  requestCharge: charge,
  ...(resourceBody ? { resourceBody } : {}),
});
const status = (statusCode: number, charge = 1): OperationResponse => ({ statusCode, requestCharge: charge });

const replace = (id: string): OperationInput => ({
  operationType: 'Replace',
  id,
  ifMatch: `etag-${id}`,
  resourceBody: { id, v: 2 },
});

/** The id an operation names (Create names it in its body). */
const idOf = (op: OperationInput): string | undefined => ('id' in op ? op.id : undefined);

const ids = (n: number) => Array.from({ length: n }, (_, i) => `d${i}`);

function options(onCharge: (ru: number) => void = () => undefined, estimate = new ChargeEstimate(10)) {
  return { estimate, onCharge };
}

test('items go in requests of at most 100 operations, Low priority, minimal answers, continuing on error; each item has one outcome', async () => {
  const { container, sent } = scripted((ops) => ops.map(() => ok(3)));
  let charged = 0;
  const outcomes = await new BulkWriter(new RuBudget(undefined)).send(
    container,
    ids(250),
    replace,
    options((ru) => (charged += ru))
  );
  expect(sent.map((s) => s.operations.length)).toEqual([BULK_LIMIT, BULK_LIMIT, 50]);
  expect(sent.flatMap((s) => s.operations)).toEqual(ids(250).map(replace));
  for (const s of sent) {
    expect(s.bulkOptions).toEqual({ continueOnError: true });
    expect(s.requestOptions).toEqual(LOW_MINIMAL);
    expect(s.requestOptions).toEqual({ priorityLevel: 'Low', contentResponseOnWriteEnabled: false });
  }
  expect(outcomes).toEqual(ids(250).map((item) => ({ item, status: 200 })));
  expect(charged).toBe(750);
});

test('no request reserves more than the budget allows: at 1,000 RU/s and 10 RU per write, 15 operations a request', async () => {
  const { container, sent } = scripted((ops) => ops.map(() => ok(10)));
  await new BulkWriter(new RuBudget(1000)).send(container, ids(40), replace, options());
  expect(sent.map((s) => s.operations.length)).toEqual([15, 15, 10]);
});

test('a read gives back its body; every status is the operation’s outcome, a 412 too without onPreconditionFailed', async () => {
  const answers = [ok(1, { id: 'a', n: 1 }), status(404), status(409), status(412), status(400)];
  const { container } = scripted(() => answers);
  const outcomes = await new BulkWriter(new RuBudget(undefined)).send(
    container,
    ['a', 'b', 'c', 'd', 'e'],
    (id) => ({ operationType: 'Read', id, partitionKey: id }),
    options()
  );
  expect(outcomes).toEqual([
    { item: 'a', status: 200, body: { id: 'a', n: 1 } },
    { item: 'b', status: 404 },
    { item: 'c', status: 409 },
    { item: 'd', status: 412 },
    { item: 'e', status: 400 },
  ]);
});

test('a 412 goes to onPreconditionFailed: what it returns is sent in its place, undefined sends nothing more', async () => {
  const { container, sent } = scripted((ops, call) =>
    ops.map((op) => (call === 1 && idOf(op) !== 'a' ? status(412) : ok()))
  );
  const asked: string[] = [];
  const outcomes = await new BulkWriter(new RuBudget(undefined)).send(container, ['a', 'b', 'c'], replace, {
    ...options(),
    onPreconditionFailed: async (item) => {
      asked.push(item);
      return item === 'b' ? 'b2' : undefined;
    },
  });
  expect(asked).toEqual(['b', 'c']);
  expect(sent.map((s) => s.operations.map(idOf))).toEqual([['a', 'b', 'c'], ['b2']]);
  expect(outcomes).toEqual([
    { item: 'a', status: 200 },
    { item: 'b2', status: 200 },
  ]);
});

test('an operation answered with a transient status is sent again as it was, and after 20 such answers is returned with its status', async () => {
  const { container, sent } = scripted((ops) =>
    ops.map((op) =>
      idOf(op) === 'stuck' ? status(503) : idOf(op) === 'once' && sent.length === 1 ? status(449) : ok()
    )
  );
  const concurrency = new AdaptiveConcurrency(4, 8);
  const outcomes = await new BulkWriter(new RuBudget(undefined), concurrency).send(
    container,
    ['once', 'fine', 'stuck'],
    replace,
    options()
  );
  expect(sent).toHaveLength(MAX_TRANSIENT_PER_OPERATION);
  expect(sent[0]!.operations).toEqual(['once', 'fine', 'stuck'].map(replace));
  expect(sent[1]!.operations).toEqual(['once', 'stuck'].map(replace));
  for (const s of sent.slice(2)) expect(s.operations).toEqual([replace('stuck')]);
  expect(outcomes).toEqual([
    { item: 'fine', status: 200 },
    { item: 'once', status: 200 },
    { item: 'stuck', status: 503 },
  ]);
  // Every round had a transient answer: the concurrency halved down to 1.
  expect(concurrency.limit).toBe(1);
});

test('a whole request throttled is sent again smaller after its retry-after, and the concurrency halves', async () => {
  let throttle = 2;
  const { container, sent } = scripted((ops) => {
    if (throttle-- > 0) throw Object.assign(new Error('Request rate is large'), { code: 429, retryAfterInMs: 5 });
    return ops.map(() => ok());
  });
  const concurrency = new AdaptiveConcurrency(8, 8);
  let charged = 0;
  const outcomes = await new BulkWriter(new RuBudget(1_000_000), concurrency).send(
    container,
    ids(80),
    replace,
    options((ru) => (charged += ru))
  );
  // 80, then 40 (half), then 20 (half again, not below 10): sent, then the rest in 20s.
  expect(sent.map((s) => s.operations.length)).toEqual([80, 40, 20, 20, 20, 20]);
  expect(sent.slice(2).flatMap((s) => s.operations)).toEqual(ids(80).map(replace));
  expect(outcomes.map((o) => o.item).sort()).toEqual(ids(80).sort());
  expect(concurrency.limit).toBe(2);
  expect(charged).toBe(160); // the throttled requests charged nothing
});

test('a throttled request never shrinks below 10 operations, nor grows past what it was', async () => {
  let throttle = 3;
  const { container, sent } = scripted((ops) => {
    if (throttle-- > 0) throw Object.assign(new Error('throttled'), { code: 429, retryAfterInMs: 1 });
    return ops.map(() => ok());
  });
  await new BulkWriter(new RuBudget(undefined)).send(container, ids(30), replace, options());
  expect(sent.map((s) => s.operations.length)).toEqual([30, 15, 10, 10, 10, 10]);
  const small = scripted((ops) => {
    if (small.sent.length === 1) throw Object.assign(new Error('throttled'), { code: 429, retryAfterInMs: 1 });
    return ops.map(() => ok());
  });
  await new BulkWriter(new RuBudget(undefined)).send(small.container, ids(4), replace, options());
  expect(small.sent.map((s) => s.operations.length)).toEqual([4, 4]);
});

test('a whole request lost to a transient failure is sent again exactly as it was, its ifMatch with it', async () => {
  let lose = 1;
  const { container, sent } = scripted((ops) => {
    if (lose-- > 0) throw new Error('Bulk request errored with: socket hang up');
    return ops.map(() => ok());
  });
  const outcomes = await new BulkWriter(new RuBudget(undefined)).send(container, ids(3), replace, options());
  expect(sent).toHaveLength(2);
  expect(sent[1]!.operations).toEqual(sent[0]!.operations);
  expect(sent[1]!.operations).toEqual(ids(3).map(replace));
  expect(outcomes).toEqual(ids(3).map((item) => ({ item, status: 200 })));
});

test('a request refused for another reason is thrown, and its reservation refunded', async () => {
  const { container, sent } = scripted(() => {
    throw Object.assign(new Error('Forbidden'), { code: 403 });
  });
  const budget = new RuBudget(1000);
  await expect(new BulkWriter(budget).send(container, ids(2), replace, options())).rejects.toThrow('Forbidden');
  expect(sent).toHaveLength(1);
  expect(budget.debt()).toBeUndefined();
  expect(budget.spent).toBe(0);
});

test('charges: settled on the budget and learned by the estimate only from answers with a success among them', async () => {
  const { container } = scripted((ops, call) => ops.map(() => (call === 1 ? status(409, 4) : ok(20))));
  const estimate = new ChargeEstimate(10);
  const budget = new RuBudget(undefined);
  await new BulkWriter(budget).send(
    container,
    ['a', 'b'],
    (id) => ({ operationType: 'Create', resourceBody: { id } }),
    {
      estimate,
      onCharge: () => undefined,
    }
  );
  // The 409s (no success) teach nothing.
  expect(estimate.get()).toBe(10);
  expect(budget.spent).toBe(8);
  await new BulkWriter(budget).send(container, ['c'], replace, { estimate, onCharge: () => undefined });
  expect(estimate.get()).toBeCloseTo(13, 10);
  expect(budget.spent).toBe(28);
});

test('the concurrency grows by one after 5 requests answered without a transient status', async () => {
  const { container, sent } = scripted((ops) => ops.map(() => ok()));
  const concurrency = new AdaptiveConcurrency(4, 8);
  await new BulkWriter(new RuBudget(undefined), concurrency).send(container, ids(5 * BULK_LIMIT), replace, options());
  expect(sent).toHaveLength(5);
  expect(concurrency.limit).toBe(5);
});
