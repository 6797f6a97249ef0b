/**
 * `npm run bench`: the runbook's performance through the real workflow (docs/performance.md). Starts the local stack
 * with its own Temporal dev server, runs workers as separate processes, measures the seven figures of docs/performance.md side
 * by side in one run, prints a table (figure, measured, target, holds), writes bench/results/latest.json, and exits 1
 * when a target does not hold (2 when the bench itself failed to start).
 *
 *   npm run bench                    # N = 50 000 (memory: 20 000 and 200 000)
 *   npm run bench -- --quick         # N = 5 000 (memory: 2 000 and 20 000), for development
 *   npm run bench -- --only throughput,budget
 *   npm run bench -- --only million  # 1 000 000 documents over 16 partitions (not in the default run)
 *   npm run bench -- --cpu-prof      # the workers write CPU profiles to bench/results/profiles/
 *   BENCH_DOCS=20000 BENCH_LATENCIES=0 npm run bench -- --only throughput
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { startBenchEnv } from './env';
import { holds, RESULTS_FILE, table, writeResults, type Figure } from './results';
import { throughputFigure, type LatencyResult } from './figures/throughput';
import { budgetFigure } from './figures/budget';
import { memoryFigure, type MemoryRun } from './figures/memory';
import { resumeFigure } from './figures/resume';
import { restoreFigure } from './figures/restore';
import { scaleOutFigure } from './figures/scale-out';
import { millionFigure } from './figures/million';

const FIGURES = ['throughput', 'budget', 'memory', 'resume', 'restore', 'scaleout', 'million'] as const;
type FigureName = (typeof FIGURES)[number];
/** What `npm run bench` runs without --only: the million takes its own run. */
const DEFAULT_FIGURES: FigureName[] = ['throughput', 'budget', 'memory', 'resume', 'restore', 'scaleout'];
/** The emulator holds a million documents and their backup log in the bench's heap. */
const MILLION_HEAP_MB = 16_384;

/** The keys each part gives (NaN, so MISSED, when the part fails). */
const KEYS: Record<FigureName | 'history', string[]> = {
  throughput: [
    'throughputRatioVsFairPeer',
    'throughputRatioSpread',
    'throughputRatioVsBulkLoop',
    'sequentialRatio0ms',
    'sequentialRatio5ms',
    'throughputRatioVsSequential',
  ],
  budget: [
    'ruBudgetUtilizationPriorityOff',
    'ruBudgetMaxWindowRatioPriorityOff',
    'ruBudgetUtilizationPriorityOn',
    'ruBudgetUtilization',
    'ruBudgetMaxWindowRatio',
    'migrationThrottledShare',
    'appThrottledShare',
    'appThrottledShareContended',
    'appP99LatencyRatio',
    'budgetChangeEffectSeconds',
    'lowShareMax1sRatio',
    'lowShareMax5sRatio',
  ],
  memory: ['rssRatio200kTo20k'],
  history: ['maxHistoryEventsPerRun', 'historyEventsPer100k'],
  resume: ['resumeRereadPagesPerRange', 'resumeFirstWriteSeconds'],
  restore: ['restoreDocsPerSecond', 'preimagesRollbackDocsPerSecond'],
  scaleout: ['scaleOutRatio2to1'],
  million: ['millionDocsPerSecond', 'millionRssRatio', 'millionMaxHistoryEvents'],
};

interface Options {
  quick: boolean;
  only: Set<FigureName>;
  cpuProf: boolean;
}

function parseArgs(argv: string[]): Options {
  const i = argv.indexOf('--only');
  const names = i >= 0 ? (argv[i + 1] ?? '').split(',') : [...DEFAULT_FIGURES];
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
  if (options.only.has('million') && v8.getHeapStatistics().heap_size_limit < MILLION_HEAP_MB * 2 ** 20) {
    // Again in a process with a heap for the emulator's million documents (the workers keep their own defaults).
    const again = spawnSync(
      process.execPath,
      [`--max-old-space-size=${MILLION_HEAP_MB}`, '--import', 'tsx', __filename, ...process.argv.slice(2)],
      { stdio: 'inherit' }
    );
    process.exit(again.status ?? 2);
  }
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
          repetitions: Number(process.env.BENCH_REPETITIONS ?? 3),
          nodeArgs,
        });
        raw.throughput = throughput;
        const worse = throughput.reduce((a, b) => (b.ratioVsPeer < a.ratioVsPeer ? b : a));
        const sequentialAt = (ms: number) =>
          throughput.find((l) => l.latencyMs === ms)?.ratioVsSequential ?? Number.NaN;
        return {
          throughputRatioVsFairPeer: worse.ratioVsPeer,
          throughputRatioSpread: worse.ratioSpread,
          throughputRatioVsBulkLoop: worse.ratioVsPeer,
          sequentialRatio0ms: sequentialAt(0),
          sequentialRatio5ms: sequentialAt(5),
          throughputRatioVsSequential: sequentialAt(5),
        };
      });
    }
    if (options.only.has('budget')) {
      await part('budget', async () => {
        const budget = await budgetFigure(env, {
          docs: Number(process.env.BENCH_BUDGET_DOCS ?? (options.quick ? 3_000 : 10_000)),
          nodeArgs,
        });
        raw.budget = budget;
        const { priorityOff: off, priorityOn: on, lowShare } = budget;
        return {
          ruBudgetUtilizationPriorityOff: off.utilization,
          ruBudgetMaxWindowRatioPriorityOff: off.maxWindowRatio5s,
          ruBudgetUtilizationPriorityOn: on.utilization,
          ruBudgetUtilization: on.utilization,
          ruBudgetMaxWindowRatio: Math.max(on.maxWindowRatio5s, off.maxWindowRatio5s),
          migrationThrottledShare: Math.max(on.migrationThrottledShare, off.migrationThrottledShare),
          appThrottledShare: Math.max(on.appThrottledShare, off.appThrottledShare),
          appThrottledShareContended: Math.max(on.appThrottledShare, off.appThrottledShare),
          appP99LatencyRatio: Math.max(on.appP99LatencyRatio ?? Number.NaN, off.appP99LatencyRatio ?? Number.NaN),
          budgetChangeEffectSeconds: on.budgetChangeEffectSeconds ?? Number.NaN,
          lowShareMax1sRatio: lowShare.maxWindowRatio1s,
          lowShareMax5sRatio: lowShare.maxWindowRatio5s,
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
    const chains = [
      ...throughput.flatMap((l) => l.product.map((p) => ({ docs: l.docs, historyEvents: p.historyEvents }))),
      ...memoryRuns,
    ];
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
    if (options.only.has('scaleout')) {
      await part('scaleout', async () => {
        const scaleOut = await scaleOutFigure(env, {
          docs: Number(process.env.BENCH_SCALEOUT_DOCS ?? (options.quick ? 4_000 : 20_000)),
          nodeArgs,
        });
        raw.scaleOut = scaleOut;
        return { scaleOutRatio2to1: scaleOut.ratio2to1 };
      });
    }
    if (options.only.has('million')) {
      await part('million', async () => {
        const million = await millionFigure(env, {
          docs: Number(process.env.BENCH_MILLION_DOCS ?? (options.quick ? 100_000 : 1_000_000)),
          nodeArgs,
        });
        raw.million = million;
        return {
          millionDocsPerSecond: million.docsPerSecond,
          millionRssRatio: million.rssRatio,
          millionMaxHistoryEvents: million.maxHistoryEvents,
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
  const kept = writeResults(figures, raw, meta);
  process.stdout.write(
    `cosmos-runbook bench (${meta.mode}): ${docs} documents, ${meta.cpus} CPUs, load ${meta.loadAverage.join(' ')}, ` +
      `${meta.benchSeconds} s\n${table(figures)}\n` +
      (kept.length > 0
        ? `\nnot measured in this run, as latest.json keeps them from earlier runs:\n${table(kept)}\n`
        : '') +
      `results: ${path.relative(process.cwd(), RESULTS_FILE)}\n`
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
