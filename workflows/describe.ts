/** The innermost message of an activity/child failure: what the operator needs, not the wrapping. */
export function describe(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e?.cause && (e.cause as { message?: string }).message) e = e.cause;
  return e?.message ?? String(err);
}
