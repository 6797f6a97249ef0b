/**
 * The fast version of `npm run chaos`'s server-restart case: the stack's Temporal server SIGKILLed mid-migration and
 * mid-rollback, restarted by the stack's supervisor on the same data; the worker process reconnects and the run ends
 * rolled back with every document transformed exactly once each way.
 */
import { serverRestart } from '../../scripts/chaos/cases/server-restart';

test('the Temporal server restarted mid-migration and mid-rollback: the run completes with exact counts', async () => {
  const lines: string[] = [];
  const figures = await serverRestart.run({ quick: true, log: (line) => lines.push(line) });
  expect(figures.filter((f) => !f.holds)).toEqual([]);
  expect(figures).toHaveLength(4);
}, 600_000);
