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
