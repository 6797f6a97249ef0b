/**
 * The `target` of a copy-mode module (common/migration.ts CopyTarget; docs/migrations.md "Copy mode"), checked with
 * zod where modules are loaded (activities/registry.ts), one line per wrong field.
 */
import { z } from 'zod';
import { fieldProblems } from './runbook-input';

const path = z.string().regex(/^\/[^/]/, { message: 'must be a path starting with "/", e.g. "/tenant"' });

const partitionKey = z.union([
  path,
  z
    .object({
      paths: z.array(path).min(1).max(3),
      kind: z.enum(['Hash', 'MultiHash']).optional(),
      version: z.number().int().min(1).max(2).optional(),
    })
    .strict(),
]);

export const copyTargetSchema = z
  .object({
    container: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[^/\\#?]+$/, { message: 'must be a container name (no / \\ # ?)' }),
    partitionKey,
    indexingPolicy: z.record(z.string(), z.unknown()).optional(),
    // Cosmos: unique keys are set when the container is created and cannot change
    // (https://learn.microsoft.com/azure/cosmos-db/unique-keys).
    uniqueKeys: z
      .array(z.object({ paths: z.array(path).min(1) }).strict())
      .max(10)
      .optional(),
    throughput: z.number().int().min(400).optional(),
    /** Dedicated RU/s set at the cutover point, once the copy's own writes are done (needs `throughput`). */
    throughputAfterCopy: z.number().int().min(400).optional(),
  })
  .strict();

/** Problems of a module's `target`, each as "target.<field>: what is wrong" (none: it is valid). */
export function checkCopyTarget(value: unknown, sourceContainer?: string): string[] {
  const parsed = copyTargetSchema.safeParse(value);
  const problems = parsed.success ? [] : fieldProblems(parsed.error).map((p) => `target.${p}`);
  if (parsed.success && sourceContainer !== undefined && parsed.data.container === sourceContainer) {
    problems.push('target.container: must differ from the source container (the source is never written)');
  }
  if (parsed.success && parsed.data.throughputAfterCopy !== undefined && parsed.data.throughput === undefined) {
    problems.push('target.throughputAfterCopy: needs target.throughput (only dedicated throughput can be lowered)');
  }
  return problems.map((p) => p.replace(/^target\.input:/, 'target:'));
}
