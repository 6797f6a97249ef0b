/**
 * The `migrationRunbook` workflow input (a public contract: docs/runbook.md): plain JSON, validated inside the workflow so that a run
 * started with `temporal workflow start --input '{...}'` fails at once, naming the field, when the input is wrong.
 * Every optional field has a production default here, and only here.
 */
import { z } from 'zod';
import { PARITY_FIELDS } from './parity';
import { tuningSchema, type RunbookTuning } from './tuning';

/** A duration as Temporal takes it: milliseconds, or an `ms`-style string such as "30s", "5m", "24h". */
const duration = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d|milliseconds?|seconds?|minutes?|hours?|days?)$/i, {
    message: 'must be a duration such as "30s", "5m", "24h" or a number of milliseconds',
  }),
]);

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'must be an ISO date-time' });

export const runbookInputSchema = z
  .object({
    /** The migration module's id. */
    migration: z.string().min(1),
    direction: z.enum(['up', 'down']).default('up'),
    /** Overrides the module's database. */
    database: z.string().min(1).optional(),
    /** Overrides the module's container. */
    container: z.string().min(1).optional(),
    approval: z
      .object({
        required: z.boolean().default(true),
        timeout: duration.default('24h'),
        /** Ask again before the destructive step of a rollback by restore (delete + restore). */
        requiredForRestore: z.boolean().default(true),
      })
      .strict()
      .default({ required: true, timeout: '24h', requiredForRestore: true }),
    /** Documents per page (and per bulk write). */
    batchSize: z.number().int().min(1).max(1000).default(100),
    /** RU/s the migration may use in total; absent: no cap (429s still back off). */
    ruBudget: z.number().positive().optional(),
    /**
     * When the catch-up after the backfill ends: "auto" once no old-shape document has arrived for `quietFor` (at once
     * when none arrived at all); "signal" on the operator's `cutover` signal (the old writers are gone), after which the
     * feed is drained to its head.
     */
    cutover: z.enum(['auto', 'signal']).default('auto'),
    /** With cutover "auto": how long the change feed must bring no old-shape document. */
    quietFor: duration.default('1m'),
    /** Feed ranges migrated at once. */
    concurrency: z.number().int().min(1).max(32).default(4),
    /** Failed documents tolerated before the run pauses. */
    maxFailures: z.number().int().min(0).default(0),
    monitor: z
      .object({
        duration: duration.default('1h'),
        interval: duration.default('1m'),
        /** Failed health checks in a row that roll back: one blip does not. */
        failuresBeforeRollback: z.number().int().min(1).max(1000).default(3),
      })
      .strict()
      .default({ duration: '1h', interval: '1m', failuresBeforeRollback: 3 }),
    rollback: z.enum(['auto', 'preimages', 'down', 'restore', 'manual']).default('auto'),
    /**
     * Keep each document's pre-image before replacing it, for the surgical rollback (one extra write per document).
     * Absent: on when the module has no down().
     */
    preimages: z.boolean().optional(),
    /**
     * Manual RU/s of the pre-images container when the run creates it (its own throughput, so the pre-image writes
     * neither share a database's nor depend on an account default). Ignored when it exists already.
     */
    preimagesThroughput: z.number().int().min(400).max(1_000_000).default(400),
    /**
     * Let an in-place restore delete the container although no stop-app hook is configured (the application may
     * write to it meanwhile). Off by default: the restore refuses before deleting anything.
     */
    allowRestoreWithoutAppStop: z.boolean().default(false),
    /** Plan, transform and count, write nothing. */
    dryRun: z.boolean().default(false),
    /** Minimum continuous-backup tier the account must have. */
    minimumBackupTier: z.enum(['Continuous7Days', 'Continuous30Days']).default('Continuous30Days'),
    /** Documents run through the transform without writing, for the estimate. */
    planSampleSize: z.number().int().min(0).max(10000).default(100),
    /** Migrated documents checked with the module's verify(). */
    verifySampleSize: z.number().int().min(0).max(100000).default(200),
    /** Sleep until the window opens; no new migrating once it has closed. */
    maintenanceWindow: z
      .object({ start: isoTime, end: isoTime })
      .strict()
      // An unreadable date is reported by its own field; only two dates can be in the wrong order.
      .refine(
        (w) =>
          Number.isNaN(Date.parse(w.start)) ||
          Number.isNaN(Date.parse(w.end)) ||
          Date.parse(w.end) > Date.parse(w.start),
        {
          message: 'must be after maintenanceWindow.start (the window is reversed or empty)',
          path: ['end'],
        }
      )
      .optional(),
    /** Production gate: the same migration checksum must have completed in this staging database. */
    /** Production gate: a successful restore drill of this container on this account within this duration. */
    requireRestoreDrill: z.object({ within: duration }).strict().optional(),
    requireStagingRun: z
      .object({
        database: z.string().min(1),
        /** The staging container, when its name differs from production's. */
        container: z.string().min(1).optional(),
        /** Differences of definition accepted: every one (true) or these fields; none by default. */
        acceptDifferences: z.union([z.boolean(), z.array(z.enum(PARITY_FIELDS))]).default(false),
      })
      .strict()
      .optional(),
  })
  .strict();

/** The input as a user writes it (optional fields may be left out). */
export type RunbookInput = z.input<typeof runbookInputSchema>;
/** The input with every default filled in. */
export type RunbookOptions = z.output<typeof runbookInputSchema>;

/** Validates the input; throws an Error whose message names each wrong field, one per line. */
export function parseRunbookInput(input: unknown): RunbookOptions {
  const result = runbookInputSchema.safeParse(input ?? undefined);
  if (result.success) return result.data;
  throw new Error(`invalid runbook input:\n${fieldProblems(result.error).join('\n')}`);
}

/** One line per problem, "field.path: message" ("input: ..." for the whole input). */
export function fieldProblems(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : 'input'}: ${issue.message}`);
}

/** What a run starts with: the documented options, and the hidden tuning knobs. */
export interface RunbookStart {
  options: RunbookOptions;
  tuning: RunbookTuning;
}

/**
 * Splits the hidden `tuning` field off the input and validates both, defaults filled in. Throws an Error naming each
 * wrong field, one per line (`tuning.` fields prefixed).
 */
export function parseRunbookStart(input: unknown): RunbookStart {
  let rest = input;
  let tuningInput: unknown = {};
  if (input && typeof input === 'object' && !Array.isArray(input) && 'tuning' in input) {
    const { tuning, ...others } = input as Record<string, unknown>;
    tuningInput = tuning;
    rest = others;
  }
  const options = parseRunbookInput(rest);
  const tuning = tuningSchema.safeParse(tuningInput ?? {});
  if (!tuning.success) {
    throw new Error(
      `invalid runbook input:\n${tuning.error.issues.map((i) => `tuning.${i.path.join('.')}: ${i.message}`).join('\n')}`
    );
  }
  return { options, tuning: tuning.data };
}
