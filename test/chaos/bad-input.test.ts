/**
 * The bad-input table (scripts/chaos/cases/bad-input.ts), one test per case: every entry point given something wrong
 * answers with a specific message where the user looks, and nothing changes in the account.
 */
import { badInputCases, runBadInputCases, type BadInputResult } from '../../scripts/chaos/cases/bad-input';

let results: BadInputResult[] = [];
beforeAll(async () => {
  results = await runBadInputCases(() => undefined, true);
}, 900_000);

test('at least 25 cases over the six entry points', () => {
  expect(results.length).toBeGreaterThanOrEqual(25);
  expect(new Set(results.map((r) => r.entry)).size).toBe(6);
});

test.each(badInputCases().map((c) => [c.entry, c.name]))('%s: %s', (_entry, name) => {
  const result = results.find((r) => r.name === name);
  expect(result).toBeDefined();
  // The message is in the failure output: what the user would have read.
  expect({ problem: result!.problem, message: result!.message }).toEqual({
    problem: undefined,
    message: result!.message,
  });
});
