/**
 * `npm run bench`: the runbook's performance through the real workflow (docs/performance.md). Starts the local stack
 * with its own Temporal dev server, runs workers as separate processes, measures the seven figures of issue 10 side
 * by side in one run, prints a table (figure, measured, target, holds), writes bench/results/latest.json, and exits 1
 * when a target does not hold.
 *
 *   npm run bench                    # N = 50 000 (memory: 20 000 and 200 000)
 *   npm run bench -- --quick         # N = 5 000 (memory: 2 000 and 20 000), for development
 *   npm run bench -- --only throughput,budget
 *   npm run bench -- --cpu-prof      # the workers write CPU profiles to bench/results/profiles/
 */
import os from 'node:os';
import path from 'node:path';
import { startBenchEnv } from './env';
import { table, writeResults, holds, RESULTS_FILE, type Figure } from './results';
import { throughputFigure } from './figures/throughput';
import { budgetFigure } from './figures/budget';
import { memoryFigure } from './figures/memory';
import { resumeFigure } from './figures/resume';
import { restoreFigure } from './figures/restore';

const FIGURES = ['throughput', 'budget', 'memory', 'resume', 'restore'] as const;
type FigureName = (typeof FIGURES)[number];

interface Options {
  quick: boolean;
  only: Set<FigureName>;
  cpuProf: boolean;
}

function parseArgs(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const cpuProf = argv.includes('--cpu-prof');
  const i = argv.indexOf('--only');
  const names = i >= 0 ? (argv[i + 1] ?? '').split(',') : [...FIGURES];
  for (const n of names) {
    if (!FIGURES.includes(n as FigureName)) throw new Error(`--only: ${n} is not one of ${FIGURES.join(', ')}`);
  }
  return { quick, cpuProf, only: new Set(names as FigureName[]) };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const docs = Number(process.env.BENCH_DOCS ?? (options.quick ? 5_000 : 50_000));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const env = await startBenchEnv(log);
  const nodeArgs = options.cpuProf
    ? ['--cpu-prof', `--cpu-prof-dir=${path.join(__dirname, 'results', 'profiles')}`]
    : [];
  const figures: Figure[] = [{ key: 'docs', label: 'documents per run', value: docs }];
  const raw: Record<string, unknown> = {};
  const started = Date.now();
  try {
    if (options.only.has('throughput')) {
      const latencies = await throughputFigure(env, {
        docs,
        sequentialDocs: options.quick ? 300 : 2000,
        latencies: [0, 5],
        nodeArgs,
      });
      raw.throughput = latencies;
      figures.push(
        {
          key: 'throughputRatioVsBulkLoop',
          label: 'whole run ÷ hand bulk loop (worst of 0 and 5 ms)',
          value: Math.min(...latencies.map((l) => l.ratioVsBulkLoop)),
          target: { op: '>=', bound: 0.85 },
        },
        {
          key: 'throughputRatioVsSequential',
          label: 'whole run ÷ one-at-a-time loop at 5 ms',
          value: latencies.find((l) => l.latencyMs === 5)?.ratioVsSequential ?? Number.NaN,
          target: { op: '>=', bound: 20 },
        }
      );
    }
    if (options.only.has('budget')) {
      const budget = await budgetFigure(env, { docs, nodeArgs });
      raw.budget = budget;
      figures.push(
        {
          key: 'ruBudgetUtilization',
          label: 'RU used ÷ budget',
          value: budget.utilization,
          target: { op: '>=', bound: 0.9 },
        },
        {
          key: 'ruBudgetMaxWindowRatio',
          label: 'max RU in a 5 s window ÷ budget',
          value: budget.maxWindowRatio,
          target: { op: '<=', bound: 1.05 },
        },
        {
          key: 'migrationThrottledShare',
          label: "migration's requests throttled",
          value: budget.migrationThrottledShare,
          target: { op: '<', bound: 0.02 },
        },
        {
          key: 'appThrottledShare',
          label: "application's requests throttled",
          value: budget.appThrottledShare,
          target: { op: '<', bound: 0.01 },
        },
        {
          key: 'budgetChangeEffectSeconds',
          label: 'setBudget to the new rate',
          value: budget.budgetChangeEffectSeconds,
          target: { op: '<=', bound: 2 },
          unit: 's',
        }
      );
    }
    if (options.only.has('memory')) {
      const memory = await memoryFigure(env, {
        small: options.quick ? 2_000 : 20_000,
        large: options.quick ? 20_000 : 200_000,
        nodeArgs,
      });
      raw.memory = memory;
      figures.push({
        key: 'rssRatio200kTo20k',
        label: 'worker peak RSS, large ÷ small',
        value: memory.rssRatio,
        target: { op: '<=', bound: 1.2 },
      });
    }
    // History: every whole run so far (throughput, memory); the largest gives events per 100k documents.
    const chains = [
      ...((raw.throughput as { historyEvents: number[]; docs: number }[] | undefined) ?? []),
      ...((raw.memory as { runs: { historyEvents: number[]; docs: number }[] } | undefined)?.runs ?? []),
    ];
    if (chains.length > 0) {
      const largest = chains.reduce((a, b) => (b.docs > a.docs ? b : a));
      const total = largest.historyEvents.reduce((a, b) => a + b, 0);
      raw.history = { chains: chains.map((c) => ({ docs: c.docs, eventsPerRun: c.historyEvents })) };
      figures.push(
        {
          key: 'maxHistoryEventsPerRun',
          label: 'history events of any one run',
          value: Math.max(...chains.flatMap((c) => c.historyEvents)),
          target: { op: '<=', bound: 10_000 },
        },
        {
          key: 'historyEventsPer100k',
          label: `history events per 100k documents (${largest.docs} docs)`,
          value: Math.round((total / largest.docs) * 100_000),
        }
      );
    }
    if (options.only.has('resume')) {
      const baseline = (
        raw.throughput as { latencyMs: number; docs: number; migrationDocumentsRead: number }[] | undefined
      )?.find((l) => l.latencyMs === 0);
      const resume = await resumeFigure(env, {
        docs,
        nodeArgs,
        baselineDocumentsRead: baseline?.migrationDocumentsRead,
      });
      raw.resume = resume;
      figures.push(
        {
          key: 'resumeRereadPagesPerRange',
          label: 'pages read again per range after SIGKILL',
          value: resume.rereadPagesPerRange,
          target: { op: '<=', bound: 1 },
        },
        {
          key: 'resumeFirstWriteSeconds',
          label: 'new worker start to its first write',
          value: resume.firstWriteSeconds,
          target: { op: '<=', bound: 10 },
          unit: 's',
        }
      );
    }
    if (options.only.has('restore')) {
      const restore = await restoreFigure(env, { docs, nodeArgs });
      raw.restore = restore;
      figures.push(
        {
          key: 'restoreDocsPerSecond',
          label: 'point-in-time restore rollback',
          value: restore.restore.docsPerSecond,
          unit: 'docs/s',
        },
        {
          key: 'preimagesRollbackDocsPerSecond',
          label: 'surgical (pre-images) rollback',
          value: restore.preimages.docsPerSecond,
          unit: 'docs/s',
        }
      );
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
