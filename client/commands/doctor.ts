/**
 * `doctor`: is this configuration ready for a first run? One line per check (client/doctor/checks.ts): ok, warn
 * (works, but see the fix) or FAIL with the fix. Exit 0 when nothing failed, 1 otherwise. `--json`: the checks as a
 * JSON array.
 */
import { print, type CliContext } from '../context';
import { runChecks, type CheckResult } from '../doctor/checks';
import { emit } from '../output';

export interface DoctorOptions {
  json?: boolean;
}

const LABEL = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;

export function formatChecks(results: CheckResult[]): string[] {
  const width = Math.max(...results.map((r) => r.check.length));
  return results.flatMap((r) => [
    `${LABEL[r.verdict]}  ${r.check.padEnd(width)}  ${r.detail}`,
    ...(r.fix ? [`${' '.repeat(width + 8)}fix: ${r.fix}`] : []),
  ]);
}

export async function doctorCommand(ctx: CliContext, options: DoctorOptions): Promise<number> {
  const temporal = await ctx.temporal().then(
    (session) => session.client,
    (err: unknown) => (err instanceof Error ? err : new Error(String(err)))
  );
  const results = await runChecks({ config: ctx.config, temporal });
  if (options.json) emit(results);
  else print(...formatChecks(results));
  return results.some((r) => r.verdict === 'fail') ? 1 : 0;
}
