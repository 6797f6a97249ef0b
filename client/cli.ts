/**
 * `npm run migrate -- <command>`: the runbook as a friendly CLI (the manual runbook's migrate:up / migrate:down /
 * migrate:status), on @temporalio/client. Configuration comes from the environment and `.local/stack.env`.
 * Exit codes: 0 done; 1 an error (one line and a hint on stderr); 2 the run ended without completing.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Direction } from '../common/activities';
import { CliContext } from './context';
import { describeError } from './errors';
import { PACKAGE_VERSION } from '../worker/package-root';
import { describeSettings, SettingsError, settingsRecord } from '../worker/settings';
import { emit, emitError, jsonOutput, setJsonOutput } from './output';
import { doctorCommand, type DoctorOptions } from './commands/doctor';
import { drillCommand, type DrillOptions } from './commands/drill';
import { newCommand, type NewOptions } from './commands/new';
import { reportCommand, type ReportOptions } from './commands/report';
import { runCommand, type RunOptions } from './commands/run';
import { controlCommand, type ControlName } from './commands/controls';
import { signalCommand, type SignalName, type SignalOptions } from './commands/signals';
import { statusCommand, type StatusOptions } from './commands/status';

function integer(min: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) throw new InvalidArgumentError(`must be an integer ≥ ${min}`);
    return parsed;
  };
}

function positive(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError('must be a positive number');
  return parsed;
}

/** Every command takes --json (client/output.ts): its result as JSON on stdout, errors too. */
function jsonOption(command: Command): Command {
  return command.option('--json', 'the result (or the error) as JSON on stdout; lines for people on stderr');
}

function targetOptions(command: Command): Command {
  return jsonOption(command)
    .option('--database <name>', "overrides the module's database")
    .option('--container <name>', "overrides the module's container");
}

function runOptions(command: Command): Command {
  return targetOptions(command)
    .option('--batch-size <n>', 'documents per page and per bulk write (default 100)', integer(1))
    .option('--ru-budget <ru>', 'RU/s the migration may use in total (default: no cap)', positive)
    .option('--concurrency <n>', 'feed ranges migrated at once (default 4)', integer(1))
    .option('--max-failures <n>', 'failed documents tolerated before the run pauses (default 0)', integer(0))
    .option('--monitor-duration <d>', 'how long to watch health after verifying, e.g. 10m (default 1h)')
    .option('--monitor-interval <d>', 'health check interval, e.g. 30s (default 1m)')
    .addOption(
      new Option('--rollback <mode>', 'how to roll back (default auto)').choices(['auto', 'down', 'restore', 'manual'])
    )
    .option('--dry-run', 'transform and count, write nothing')
    .option('--approval-timeout <d>', 'how long to wait for approval, e.g. 2h (default 24h)')
    .option('--yes', 'approve at once, without a human review of the plan')
    .option('--no-approval', 'start without an approval gate (approval.required false)')
    .option('--detach', 'start the run and return; follow it with `status`');
}

export function buildProgram(ctx: () => CliContext, exit: (code: number) => void, name = 'migrate'): Command {
  const program = new Command(name)
    .description('Safe Azure Cosmos DB migrations as durable Temporal workflows')
    .version(PACKAGE_VERSION, '-V, --version', 'the version of cosmos-runbook')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      // A usage error (unknown option, missing argument) under --json is a JSON error like any other.
      outputError: (text, write) =>
        jsonOutput() ? emitError({ message: text.trim().replace(/^error: /, '') }) : write(text),
    });

  const run = (fn: (c: CliContext) => Promise<number>) => async () => {
    exit(await fn(ctx()));
  };

  for (const direction of ['up', 'down'] as Direction[]) {
    runOptions(
      program
        .command(`${direction} <id>`)
        .description(
          direction === 'up' ? 'migrate a container forward (the runbook)' : 'reverse a migration with its down()'
        )
    ).action((id: string, options: RunOptions) => run((c) => runCommand(c, id, direction, options))());
  }

  targetOptions(program.command('plan <id>').description('dry run: the plan and the estimate, nothing written'))
    .option('--ru-budget <ru>', 'estimate at this RU/s budget', positive)
    .option('--ru-price <amount>', 'price per million RU for the cost estimate (default 0.25)', positive)
    .option('--currency <code>', 'the currency of --ru-price (default USD)')
    .option('--down', 'plan the down migration')
    .action((id: string, options: RunOptions & { down?: boolean }) =>
      run((c) => runCommand(c, id, options.down ? 'down' : 'up', options, true))()
    );

  targetOptions(
    program.command('status [id]').description('every migration and the runs in progress; or one run')
  ).action((id: string | undefined, options: StatusOptions) => run((c) => statusCommand(c, id, options))());

  const signals: [SignalName, string, (cmd: Command) => Command][] = [
    [
      'approve',
      'approve the run (at its approval gate)',
      (cmd) => cmd.option('--by <name>').option('--comment <text>'),
    ],
    ['abort', 'stop the run at a gate; nothing is changed', (cmd) => cmd.option('--reason <text>')],
    ['rollback', 'roll the run back now', (cmd) => cmd.option('--reason <text>')],
    ['resume', 'continue a paused run', (cmd) => cmd],
    [
      'cutover',
      'the old writers are gone: drain the change feed to its head and verify (a run started with cutover "signal")',
      (cmd) => cmd.option('--by <name>'),
    ],
  ];
  for (const [name, description, extend] of signals) {
    extend(targetOptions(program.command(`${name} <id>`).description(description))).action(
      (id: string, options: SignalOptions) => run((c) => signalCommand(c, name, id, options))()
    );
  }

  const controls: [ControlName, string, string][] = [
    [
      'budget',
      'budget <id> <ru>',
      'set the RU/s budget of a running migration (none: no cap); effective within a page',
    ],
    ['concurrency', 'concurrency <id> <n>', 'set how many feed ranges migrate at once; effective within a page'],
    ['pause', 'pause <id>', 'pause a migrating run after the pages in flight (resume or rollback decides)'],
  ];
  for (const [name, usage, description] of controls) {
    const cmd = targetOptions(program.command(usage).description(description));
    if (name === 'pause') cmd.option('--reason <text>');
    cmd.action((id: string, value: string | SignalOptions, maybe?: SignalOptions) => {
      const options = (typeof value === 'string' ? maybe : value) ?? {};
      const arg = typeof value === 'string' ? value : undefined;
      return run((c) => controlCommand(c, name, id, arg, options))();
    });
  }

  targetOptions(
    program
      .command('drill <id>')
      .description('restore drill: restore the container side by side into a new account, verify, delete, record')
  )
    .option('--at <iso>', 'the restore point (default: now)')
    .option('--sample <n>', 'documents compared one by one (default 100)', integer(1))
    .option(
      '--account <name>',
      'the new account to restore into, deleted afterwards (default <container>-drill-<time>)'
    )
    .option('--detach', 'start the drill and return')
    .action((id: string, options: DrillOptions) => run((c) => drillCommand(c, id, options))());

  jsonOption(program.command('report <id>').description('the report of the latest run (markdown)'))
    .option('--plan', 'include plan (dry) runs')
    .action((id: string, options: ReportOptions) => run((c) => reportCommand(c, id, options))());

  jsonOption(
    program
      .command('config')
      .description('every setting, its value (never a key) and where it came from: environment, stack file or default')
  ).action(() =>
    run(async (c) => {
      if (!c.config.settings) return Promise.resolve(0);
      if (jsonOutput()) emit({ notes: c.config.settings.notes, configuration: settingsRecord(c.config.settings) });
      else process.stdout.write(`${describeSettings(c.config.settings).join('\n')}\n`);
      return Promise.resolve(0);
    })()
  );

  targetOptions(
    program.command('new <name>').description('write a migration module template to MIGRATIONS_DIR')
  ).action((name: string, options: NewOptions) => run((c) => newCommand(c, name, options))());

  jsonOption(
    program
      .command('doctor')
      .description(
        'check the configuration, Temporal, search attributes, workers, Cosmos DB, backup, priority-based execution and ARM permissions'
      )
  ).action((options: DoctorOptions) => run((c) => doctorCommand(c, options))());

  program
    .command('worker')
    .description(
      'run a runbook worker (configured by the environment: README Configuration; LOG_LEVEL, LOG_FORMAT, METRICS_BIND_ADDRESS)'
    )
    .action(async () => {
      // Loaded only for this command: the other commands need no worker (and start faster without its native core).
      const { runWorker } = await import('../worker/main');
      await runWorker();
      exit(0);
    });

  return program;
}

/** The CLI: `npm run migrate -- <command>` (name `migrate`), or the `cosmos-runbook` bin (client/bin.ts). */
export async function main(argv: string[] = process.argv, name = 'migrate'): Promise<void> {
  if (argv[2] !== 'worker') {
    // Ctrl-C while following: the run goes on in Temporal; say so and how to find it again. (The worker command
    // leaves SIGINT to the Temporal runtime, which shuts the worker down gracefully.)
    process.once('SIGINT', () => {
      process.stderr.write('\nstopped following; the run continues in Temporal (npm run migrate -- status)\n');
      process.exit(130);
    });
  }
  // Before parsing, so that a usage error is JSON too. (`worker` has no --json: its logs are JSON already.)
  setJsonOutput(argv.slice(2).includes('--json') && argv[2] !== 'worker');
  let context: CliContext | undefined;
  const ctx = () => (context ??= new CliContext());
  let code = 0;
  try {
    await buildProgram(ctx, (c) => (code = c), name).parseAsync(argv);
  } catch (err) {
    if (err instanceof SettingsError) {
      // One line per problem, like the worker.
      if (jsonOutput()) emitError({ message: 'configuration is invalid', problems: err.problems });
      else for (const problem of err.problems) process.stderr.write(`error: ${problem}\n`);
      code = 1;
    } else {
      const { message, hint } = describeError(err, context?.config.temporal.address);
      if (jsonOutput()) emitError({ message, ...(hint ? { hint } : {}) });
      else process.stderr.write(`error: ${message}\n${hint ? `hint: ${hint}\n` : ''}`);
      code = (err as { exitCode?: number }).exitCode ?? 1;
    }
  } finally {
    await context?.close();
  }
  process.exit(code);
}

if (require.main === module) void main();
