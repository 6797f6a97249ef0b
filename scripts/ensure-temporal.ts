/**
 * `tsx scripts/ensure-temporal.ts`: makes sure the Temporal CLI is available (building it once with `go install` when
 * it is not) and prints its absolute path. Run by `npm test`, by the stack launcher and by `.ci/run`.
 */
import { ensureTemporalCli } from '../local/temporal-cli';

ensureTemporalCli()
  .then((cli) => {
    process.stdout.write(`${cli}\n`);
  })
  .catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
