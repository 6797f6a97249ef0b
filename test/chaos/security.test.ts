/**
 * The fast version of `npm run chaos`'s security case: no document contents or keys in any decoded history payload,
 * the allow-list holds against overrides and a direct rollback, hooks only from the worker, ARM refuses missing and
 * wrong tokens, the CLI and the worker's log never print a key.
 */
import { security } from '../../scripts/chaos/cases/security';

test('security figures all hold', async () => {
  const lines: string[] = [];
  const figures = await security.run({ quick: true, log: (line) => lines.push(line) });
  expect({ failing: figures.filter((f) => !f.holds), lines }).toEqual({ failing: [], lines: expect.any(Array) });
  expect(figures).toHaveLength(5);
}, 600_000);
