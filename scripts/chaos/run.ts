/**
 * `npm run chaos [-- --quick] [-- --only <case>]`: the proof of durability. Runs every case of
 * scripts/chaos/cases/ (each starts its own stack in a temp folder), prints one table of figures, writes it with the
 * command that produced it to docs/reliability.md (between markers, so a rerun replaces it), and exits 0 only when
 * every figure holds. `--quick` runs each case smaller (fewer documents, fewer kills) for a check in minutes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { newSeed, seedFromEnv } from '../../local/seeded-random';
import type { ChaosCase, Figure } from './types';
import { workerKills } from './cases/worker-kills';
import { faults } from './cases/faults';
import { appWrites } from './cases/app-writes';
import { longWaits } from './cases/long-waits';
import { versionSkew } from './cases/version-skew';
import { serverRestart } from './cases/server-restart';
import { badInput } from './cases/bad-input';
import { security } from './cases/security';

/** In the order: kills, server restart, faults, application writes, long waits, skew, bad input, security. */
const CASES: ChaosCase[] = [workerKills, serverRestart, faults, appWrites, longWaits, versionSkew, badInput, security];

const DOC = path.resolve(__dirname, '..', '..', 'docs', 'reliability.md');
export const BEGIN = '<!-- chaos:begin (written by `npm run chaos`; do not edit by hand) -->';
export const END = '<!-- chaos:end -->';

export function formatTable(figures: Figure[]): string {
  const rows = [
    ['figure', 'value', 'target', 'holds'],
    ...figures.map((f) => [f.name, String(f.value), f.target, f.holds ? 'yes' : '**NO**']),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(rows[0]!), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.slice(1).map(line)].join('\n');
}

export function summary(figures: Figure[]): string {
  return `chaos: ${figures.length} figures, ${figures.filter((f) => f.holds).length} hold`;
}

/** Replaces what lies between the markers of docs/reliability.md (appends the block when they are missing). */
export function writeReliabilityTable(command: string, table: string, line: string, when: Date, seconds: number): void {
  const block = [
    BEGIN,
    '',
    `\`${command}\` on ${when.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${seconds} s:`,
    '',
    table,
    '',
    line,
    '',
    END,
  ].join('\n');
  const text = fs.existsSync(DOC) ? fs.readFileSync(DOC, 'utf8') : '# Reliability\n\n';
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  const next =
    start >= 0 && end > start
      ? text.slice(0, start) + block + text.slice(end + END.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  fs.writeFileSync(DOC, next);
}

/** An error and its causes (a WorkflowFailedError says why only in its cause). */
function describe(err: unknown): string {
  const lines: string[] = [];
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    lines.push(e instanceof Error ? `${e.name}: ${e.message}` : JSON.stringify(e));
  }
  return lines.join('\n  caused by ');
}

async function main(): Promise<number> {
  const program = new Command()
    .name('npm run chaos --')
    .option('--quick', 'smaller runs (fewer documents, fewer kills): minutes instead of the full proof')
    .option('--only <case>', `run one case: ${CASES.map((c) => c.name).join(', ')}`)
    .option('--seed <n>', 'replay the random draws of an earlier run (faults, application writes, kill victims)')
    .parse();
  const options = program.opts<{ quick?: boolean; only?: string; seed?: string }>();
  // One seed for every draw of the run, printed first so any run can be replayed (local/seeded-random.ts).
  process.env.LOCAL_FAULT_SEED = options.seed ?? process.env.LOCAL_FAULT_SEED ?? String(newSeed());
  const seed = seedFromEnv();
  const quick = options.quick === true;
  const cases = options.only ? CASES.filter((c) => c.name === options.only) : CASES;
  if (cases.length === 0) {
    console.error(`no chaos case named ${options.only} (cases: ${CASES.map((c) => c.name).join(', ')})`);
    return 1;
  }
  console.log(`chaos: seed ${seed} (replay: npm run chaos -- --seed ${seed})`);
  const started = new Date();
  const figures: Figure[] = [];
  for (const c of cases) {
    const log = (line: string) => console.log(`[${c.name}] ${line}`);
    log(quick ? 'starting (--quick)' : 'starting');
    const caseStarted = Date.now();
    try {
      figures.push(...(await c.run({ quick, log })));
    } catch (err) {
      // A case that cannot finish is a figure that does not hold, not the end of the others.
      log(`failed: ${describe(err)}`);
      figures.push({ name: `${c.name}: ran to the end`, value: 'error', target: 'ran', holds: false });
    }
    log(`done in ${Math.round((Date.now() - caseStarted) / 1000)} s`);
  }
  const table = formatTable(figures);
  const line = summary(figures);
  const command = [
    'npm run chaos',
    ...(quick || options.only ? ['--'] : []),
    ...(quick ? ['--quick'] : []),
    ...(options.only ? ['--only', options.only] : []),
  ].join(' ');
  const replay = `seed ${seed}: \`npm run chaos -- ${[...(quick ? ['--quick'] : []), ...(options.only ? ['--only', options.only] : []), '--seed', seed].join(' ')}\` replays its draws`;
  writeReliabilityTable(
    command,
    table,
    `${line}; ${replay}`,
    started,
    Math.round((Date.now() - started.getTime()) / 1000)
  );
  console.log(`\n${table}\n`);
  console.log(line);
  console.log(replay);
  return figures.every((f) => f.holds) ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    }
  );
}
