/**
 * Long waits: a run awaiting approval or paused for "days" keeps each run's history bounded and
 * resumes correctly. The proof is test/workflow/long-waits.test.ts (days simulated by a 1 s lease renewal and a low
 * continue-as-new threshold); chaos runs it and reports its figures.
 */
import { jestCase } from './jest-case';

export const longWaits = jestCase('long-waits', 'test/workflow/long-waits.test.ts');
