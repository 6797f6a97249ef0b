/**
 * `npm run bench`: the runbook's performance through the real workflow (docs/performance.md). Starts the local stack
 * with its own Temporal dev server, runs workers as separate processes, measures the seven figures of docs/performance.md side
 * by side in one run, prints a table (figure, measured, target, holds), writes bench/results/latest.json, and exits 1
 * when a target does not hold (2 when the bench itself failed to start).
 *
 *   npm run bench                    # N = 50 000 (memory: 20 000 and 200 000)
 *   npm run bench -- --quick         # N = 5 000 (memory: 2 000 and 20 000), for development
 *   npm run bench -- --only throughput,budget
 *   npm run bench -- --cpu-prof      # the workers write CPU profiles to bench/results/profiles/
 *   BENCH_DOCS=20000 BENCH_LATENCIES=0 npm run bench -- --only throughput
 */
import os from 'node:os';
import path from 'node:path';
import { startBenchEnv } from './env';
import { holds, RESULTS_FILE, table, writeResults, type Figure } from './results';
import { throughputFigure, type LatencyResult } from './figures/throughput';
import { budgetFigure } from './figures/budget';
import { memoryFigure, type MemoryRun } from './figures/memory';
import { resumeFigure } from './figures/resume';
import { restoreFigure } from './figures/restore';

const FIGURES = ['throughput', 'budget', 'memory', 'resume', 'restore'] as const;
type FigureName = (typeof FIGURES)[number];

/** The keys each part gives (NaN, so MISSED, when the part fails). */
const KEYS: Record<FigureName | 'history', string[]> = {
  throughput: ['throughputRatioVsBulkLoop', 'throughputRatioVsSequential'],
  budget: [
    'ruBudgetUtilization',
    'ruBudgetMaxWindowRatio',
    'migrationThrottledShare',
    'appThrottledShare',
    'budgetChangeEffectSeconds',
  ],
  memory: ['rssRatio200kTo20k'],
  history: ['maxHistoryEventsPerRun', 'historyEventsPer100k'],
  resume: ['resumeRereadPagesPerRange', 'resumeFirstWriteSeconds'],
  restore: ['restoreDocsPerSecond', 'preimagesRollbackDocsPerSecond'],
};

interface Options {
  quick: boolean;
  only: Set<FigureName>;
  cpuProf: boolean;
}

function parseArgs(argv: string[]): Options {
  const i = argv.indexOf('--only');
  const names = i >= 0 ? (argv[i + 1] ?? '').split(',') : [...FIGURES];
  for (const n of names) {
    if (!FIGURES.includes(n as FigureName)) throw new Error(`--only: ${n} is not one of ${FIGURES.join(', ')}`);
  }
  return {
    quick: argv.includes('--quick'),
    cpuProf: argv.includes('--cpu-prof'),
    only: new Set(names as FigureName[]),
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const docs = Number(process.env.BENCH_DOCS ?? (options.quick ? 5_000 : 50_000));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const nodeArgs = options.cpuProf
    ? ['--cpu-prof', `--cpu-prof-dir=${path.join(__dirname, 'results', 'profiles')}`]
    : [];
  const figures: Figure[] = [{ key: 'docs', value: docs }];
  const raw: Record<string, unknown> = {};
  const started = Date.now();
  const env = await startBenchEnv(log);

  /** One part of the bench; a failure is reported (its figures MISSED) and the next part runs. */
  const part = async (name: FigureName | 'history', fn: () => Promise<Record<string, number>>) => {
    try {
      const values = await fn();
      for (const key of KEYS[name]) figures.push({ key, value: values[key] ?? Number.NaN });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log(`${name} failed: ${message}`);
      raw[name] = { error: message };
      for (const key of KEYS[name]) figures.push({ key, value: Number.NaN });
    }
  };

  let throughput: LatencyResult[] = [];
  let memoryRuns: MemoryRun[] = [];
  try {
    if (options.only.has('throughput')) {
      await part('throughput', async () => {
        throughput = await throughputFigure(env, {
          docs,
          sequentialDocs: options.quick ? 300 : 2000,
          latencies: (process.env.BENCH_LATENCIES ?? '0,5').split(',').map(Number),
          nodeArgs,
        });
        raw.throughput = throughput;
        return {
          throughputRatioVsBulkLoop: Math.min(...throughput.map((l) => l.ratioVsBulkLoop)),
          throughputRatioVsSequential: throughput.find((l) => l.latencyMs === 5)?.ratioVsSequential ?? Number.NaN,
        };
      });
    }
    if (options.only.has('budget')) {
      await part('budget', async () => {
        const budget = await budgetFigure(env, { docs, nodeArgs });
        raw.budget = budget;
        return {
          ruBudgetUtilization: budget.utilization,
          ruBudgetMaxWindowRatio: budget.maxWindowRatio,
          migrationThrottledShare: budget.migrationThrottledShare,
          appThrottledShare: budget.appThrottledShare,
          budgetChangeEffectSeconds: budget.budgetChangeEffectSeconds,
        };
      });
    }
    if (options.only.has('memory')) {
      await part('memory', async () => {
        const memory = await memoryFigure(env, {
          small: options.quick ? 2_000 : 20_000,
          large: options.quick ? 20_000 : 200_000,
          nodeArgs,
        });
        memoryRuns = memory.runs;
        raw.memory = memory;
        return { rssRatio200kTo20k: memory.rssRatio };
      });
    }
    // History: every whole run of figures 1 and 4; the largest gives the events per 100k documents.
    const chains = [...throughput, ...memoryRuns];
    if (chains.length > 0) {
      await part('history', async () => {
        const largest = chains.reduce((a, b) => (b.docs > a.docs ? b : a));
        const total = largest.historyEvents.reduce((a, b) => a + b, 0);
        raw.history = { chains: chains.map((c) => ({ docs: c.docs, eventsPerRun: c.historyEvents })) };
        return {
          maxHistoryEventsPerRun: Math.max(...chains.flatMap((c) => c.historyEvents)),
          historyEventsPer100k: Math.round((total / largest.docs) * 100_000),
        };
      });
    }
    if (options.only.has('resume')) {
      await part('resume', async () => {
        const baseline = throughput.find((l) => l.latencyMs === 0 && l.docs === docs);
        const resume = await resumeFigure(env, {
          docs,
          nodeArgs,
          baselineDocumentsRead: baseline?.migrationDocumentsRead,
        });
        raw.resume = resume;
        return {
          resumeRereadPagesPerRange: resume.rereadPagesPerRange,
          resumeFirstWriteSeconds: resume.firstWriteSeconds,
        };
      });
    }
    if (options.only.has('restore')) {
      await part('restore', async () => {
        const restore = await restoreFigure(env, { docs, nodeArgs });
        raw.restore = restore;
        return {
          restoreDocsPerSecond: restore.restore.docsPerSecond,
          preimagesRollbackDocsPerSecond: restore.preimages.docsPerSecond,
        };
      });
    }
  } finally {
    await env.close();
  }
  const meta = {
    at: new Date().toISOString(),
    mode: options.quick ? 'quick' : 'full',
    figuresRun: [...options.only],
    node: process.version,
    cpus: os.cpus().length,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    benchSeconds: Math.round((Date.now() - started) / 1000),
  };
  writeResults(figures, raw, meta);
  process.stdout.write(
    `cosmos-runbook bench (${meta.mode}): ${docs} documents, ${meta.cpus} CPUs, load ${meta.loadAverage.join(' ')}, ` +
      `${meta.benchSeconds} s\n${table(figures)}\nresults: ${path.relative(process.cwd(), RESULTS_FILE)}\n`
  );
  const missed = figures.filter((f) => holds(f) === false);
  if (missed.length > 0) {
    process.stdout.write(`targets missed: ${missed.map((f) => f.key).join(', ')}\n`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(2);
});
