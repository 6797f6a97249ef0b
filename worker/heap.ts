/**
 * The worker's heap policy: peak memory that does not grow with the size of the migration.
 *
 * A migrating worker allocates a few hundred MB/s (query pages, transform copies, bulk bodies, the SDK's per-operation
 * partition-key hashing), of which pages still in flight survive the young generation. When collection is cheap V8
 * lets the old generation grow to up to 4× what survived the last full GC before collecting it again (the
 * MemoryController's dynamic growing factor), so over a long run the heap saws between ~80 MB live and ~300 MB: the
 * bench measured a peak RSS of 490 MB at 200 000 documents against 380 MB at 20 000 (docs/performance.md, figure 4).
 * `--heap-growing-percent=50` fixes the factor at 1.5: 325–330 MB at both sizes, for a full GC every few seconds
 * (~13 ms each, incremental). V8 reads the flag at every GC, so setting it at start-up takes effect.
 */
import v8 from 'node:v8';

export const HEAP_GROWING_PERCENT = 50;
const FLAG = '--heap-growing-percent';

/**
 * Applies the policy unless node was started with its own `--heap-growing-percent` (a V8 flag, so on node's command
 * line: NODE_OPTIONS does not take it). Returns the flag it set, or undefined when it left the operator's.
 */
export function boundHeapGrowth(
  execArgv: readonly string[] = process.execArgv,
  setFlags: (flags: string) => void = v8.setFlagsFromString
): string | undefined {
  const given = execArgv.some((arg) => arg.replace(/_/g, '-').startsWith(FLAG));
  if (given) return undefined;
  const flag = `${FLAG}=${HEAP_GROWING_PERCENT}`;
  setFlags(flag);
  return flag;
}
