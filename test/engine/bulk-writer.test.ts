/**
 * The one bulk writer (activities/cosmos/bulk-writer.ts) never sends a Replace without the `ifMatch` it was built
 * with: sent again after a lost answer, a blind replace would overwrite what the application wrote meanwhile. The
 * end-to-end proof (answers lost while an application writes) is in transient-faults.test.ts; this is the guard itself,
 * which refuses before anything reaches a container.
 */
import type { Container } from '@azure/cosmos';
import { BulkWriter } from '../../activities/cosmos/bulk-writer';
import { ChargeEstimate, RuBudget } from '../../activities/cosmos/ru-budget';

test('a Replace without ifMatch is refused before it is sent; nothing is charged', async () => {
  const sent: unknown[] = [];
  const container = {
    items: { bulk: (ops: unknown[]) => (sent.push(ops), Promise.resolve([])) },
  } as unknown as Container;
  let charged = 0;
  await expect(
    new BulkWriter(new RuBudget(100)).send(
      container,
      ['a'],
      (id) => ({ operationType: 'Replace', id, resourceBody: { id } }),
      { estimate: new ChargeEstimate(10), onCharge: (ru) => (charged += ru) }
    )
  ).rejects.toThrow(/without ifMatch/);
  expect(sent).toEqual([]);
  expect(charged).toBe(0);
});

/**
 * Azure's partial bulk throttling as `items.bulk` hands it back: the operations answered 429 inside a 207 carry the
 * service's `retryAfterMilliseconds` and cost nothing (client/Item/Items.js `executeBatchOperations` copies each
 * operation's answer as it came). The end-to-end proof against the emulator is in ru-budget.test.ts; this pins the
 * writer's handling of one such answer.
 */
test('operations throttled inside a bulk: exactly they are sent again after their retry-after, however often, and only what ran is booked', async () => {
  const sent: { ids: string[]; at: number }[] = [];
  let throttleC = 25; // more than MAX_TRANSIENT_PER_OPERATION: throttling is back-pressure, never a failed document
  const container = {
    id: 'c',
    database: { id: 'db' },
    items: {
      bulk: (ops: { id: string }[]) => {
        sent.push({ ids: ops.map((o) => o.id), at: Date.now() });
        const first = sent.length === 1;
        return Promise.resolve(
          ops.map((op) => {
            const throttled = (first && op.id !== 'a') || (op.id === 'c' && throttleC-- > 0);
            return throttled
              ? { statusCode: 429, subStatusCode: 3200, requestCharge: 0, retryAfterMilliseconds: first ? 400 : 1 }
              : { statusCode: 200, requestCharge: 5, eTag: `"${op.id}"` };
          })
        );
      },
    },
  } as unknown as Container;
  let charged = 0;
  const estimate = new ChargeEstimate(5);
  const outcomes = await new BulkWriter(new RuBudget()).send(
    container,
    ['a', 'b', 'c'],
    (id) => ({ operationType: 'Replace', id, ifMatch: `"${id}-read"`, resourceBody: { id } }),
    { estimate, onCharge: (ru) => (charged += ru) }
  );
  expect(outcomes.map((o) => [o.item, o.status]).sort()).toEqual([
    ['a', 200],
    ['b', 200],
    ['c', 200],
  ]);
  expect(sent.map((s) => s.ids)).toEqual([['a', 'b', 'c'], ['b', 'c'], ...Array<string[]>(25).fill(['c'])]);
  expect(sent[1]!.at - sent[0]!.at).toBeGreaterThanOrEqual(400); // the longest retry-after of the throttled
  expect(charged).toBe(15); // three operations ran once each; the 429s cost nothing
  expect(estimate.get()).toBe(5); // learned from the operations that ran only
});
