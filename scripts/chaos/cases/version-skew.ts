/**
 * Version skew: a worker whose copy of a module differs from the approved checksum refuses to run
 * it and changes nothing. The proof is test/workflow/skew.test.ts; chaos runs it and reports its figures.
 */
import { jestCase } from './jest-case';

export const versionSkew = jestCase('version-skew', 'test/workflow/skew.test.ts');
