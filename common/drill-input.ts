/**
 * The `restoreDrill` workflow input (a public contract: docs/runbook.md), validated inside the workflow so that a drill
 * started with `temporal workflow start --type restoreDrill --input '{...}'` fails at once, naming the field.
 */
import { z } from 'zod';
import { fieldProblems } from './runbook-input';

/** Azure's account names: 3–44 lower-case letters, digits and hyphens; a drill account's also says "drill". */
const drillAccountName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{2,43}$/, {
    message: 'must be an account name: 3 to 44 lower-case letters, digits and hyphens',
  })
  .refine((name) => name.includes('drill'), { message: 'must contain "drill" (the account is deleted afterwards)' });

export const restoreDrillInputSchema = z
  .object({
    /** The migration module whose container is drilled (its database and container). */
    migration: z.string().min(1).optional(),
    /** Overrides (or, without `migration`, names) the database. */
    database: z.string().min(1).optional(),
    /** Overrides (or, without `migration`, names) the container. */
    container: z.string().min(1).optional(),
    /** The restore point, ISO. @default the drill's start */
    at: z
      .string()
      .refine((s) => !Number.isNaN(Date.parse(s)), { message: 'must be an ISO date-time' })
      .optional(),
    /** Documents compared one by one between the copy and the live container. @default 100 */
    sampleSize: z.number().int().min(1).max(10_000).default(100),
    /** The new account the copy is restored into (deleted afterwards). @default "<container>-drill-<time>" */
    account: drillAccountName.optional(),
  })
  .strict()
  .refine((input) => input.migration !== undefined || (input.database !== undefined && input.container !== undefined), {
    message: 'name a migration, or both database and container',
  });

export type RestoreDrillInput = z.input<typeof restoreDrillInputSchema>;
export type RestoreDrillOptions = z.output<typeof restoreDrillInputSchema>;

/** Validates a drill input; throws an Error whose message lists each problem by field. */
export function parseRestoreDrillInput(raw: unknown): RestoreDrillOptions {
  const parsed = restoreDrillInputSchema.safeParse(raw ?? undefined);
  if (!parsed.success) throw new Error(`invalid restoreDrill input:\n${fieldProblems(parsed.error).join('\n')}`);
  return parsed.data;
}

/** A default drill account name: the container's name made account-safe, "-drill-", and the time in base 36. */
export function defaultDrillAccount(container: string, now: number): string {
  const stem = container
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 24);
  return `${stem || 'container'}-drill-${now.toString(36)}`;
}
