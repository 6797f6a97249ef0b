/**
 * Figure 2 (RU budget) and figure 3 (live controls), with the RU model on. One shape, run under each of the
 * account's settings: a container of PROVISIONED RU/s over 2 physical partitions, the migration's budget, and an
 * application (its own process, bench/application.ts: High priority, the SDK's default) that alone takes
 * APP_SHARE of the provisioned RU/s, on the same container all along, so that the two contend:
 *
 * - priority-based execution **off** (Azure's default): the budget is spread per physical partition
 *   (workflows/budget-share.ts), and only the product's own pacing keeps the application's share;
 * - priority-based execution **on**: Azure throttles the migration's Low-priority requests first, the budget follows
 *   the work; once the migration has read 60 % of the documents a `setBudget` Update halves the budget (figure 3:
 *   the seconds from sending it until the migration's rate comes down to it). The Update answers once the new budget
 *   is in force (the ranges started under the old one have stopped): the windows hold the migration to the old
 *   budget until the answer and to the new one from it.
 *
 * The application runs APP_ALONE_MS alone first: its latencies without the migration, then with it.
 *
 * And the low share: 125 RU/s per range (budget 250 over 2 partitions, priority off, no application), where a page's
 * bulk of 100 replaces is eight seconds of the share: the largest 1 s and 5 s windows.
 *
 * The emulator counts requests by priority (stats().byPriority): the migration sends everything Low, the
 * application High. Sampled every 250 ms: utilization is the migration's RU over the budget integrated over the
 * migrating phase; a window ratio the largest window's RU over the budget in it.
 */
import { setBudgetUpdate } from '../../workflows/messages';
import type { AppCounts } from '../application';
import { createContainer, dropContainer, seed } from '../data';
import type { BenchEnv } from '../env';
import { startHand } from '../hand';
import { result, startRun } from '../runbook';
import { priorityStats, round, sleep } from '../timing';

const PROVISIONED = 6_000;
const PARTITIONS = 2;
/** What the application alone takes of the provisioned RU/s. */
const APP_SHARE = 0.6;
const BUDGET = 1_500;
const LOWER_BUDGET = 750;
const LOW_SHARE_PER_RANGE = 125;
const SAMPLE_MS = 250;
const APP_ALONE_MS = 8_000;

interface Sample {
  at: number;
  lowRu: number;
  lowRequests: number;
  lowThrottled: number;
  highRu: number;
  highRequests: number;
  highThrottled: number;
}

export interface BudgetRun {
  label: string;
  priorityBased: boolean;
  provisioned: number;
  partitions: number;
  budget: number;
  lowerBudget?: number;
  docs: number;
  utilization: number;
  maxWindowRatio1s: number;
  maxWindowRatio5s: number;
  migrationThrottledShare: number;
  appThrottledShare: number;
  budgetChangeEffectSeconds?: number;
  /** Seconds from sending setBudget to its answer, which comes once the new budget is in force. */
  budgetUpdateAnswerSeconds?: number;
  migrationRu: number;
  budgetRuIntegral: number;
  migratingSeconds: number;
  migrationRequests: number;
  migrationThrottled: number;
  appRequests: number;
  appThrottled: number;
  /** The application's RU/s over the migrating phase ÷ the provisioned RU/s (the emulator's count). */
  appShareOfProvisioned?: number;
  /** The application's own view: alone, then beside the migration. */
  app?: Record<string, AppCounts>;
  appP99LatencyRatio?: number;
  ruPerSecondBefore: number;
  ruPerSecondAfter: number;
}

interface RunShape {
  label: string;
  docs: number;
  budget: number;
  lowerBudget?: number;
  priorityBased: boolean;
  app: boolean;
  nodeArgs: string[];
}

async function setPriorityBasedExecution(env: BenchEnv, enabled: boolean): Promise<void> {
  const { resourceGroup, account } = env.settings;
  await env.arm.databaseAccounts.beginUpdateAndWait(
    resourceGroup,
    account,
    { enablePriorityBasedExecution: enabled },
    { updateIntervalInMs: 50 }
  );
}

async function budgetRun(env: BenchEnv, shape: RunShape): Promise<BudgetRun> {
  const { cosmos } = env.stack;
  const name = `budget-${shape.label}`;
  cosmos.control.setRuModel(false);
  env.log(`RU budget (${shape.label}): seeding ${shape.docs} documents into ${PROVISIONED} RU/s ...`);
  await createContainer(env, name, PROVISIONED);
  // 2 physical partitions at 6 000 RU/s, as a container split by its storage has (Azure: 50 GB per partition).
  await cosmos.control.setPartitionCount('bench', name, PARTITIONS);
  await seed(env.cosmos.database('bench').container(name), shape.docs);
  await setPriorityBasedExecution(env, shape.priorityBased);
  cosmos.control.setRuModel(true);
  const worker = await env.startWorker(shape.nodeArgs);
  const samples: Sample[] = [];
  let sampling = true;
  const take = () => {
    const s = priorityStats(cosmos);
    samples.push({
      at: Date.now(),
      lowRu: s.Low.requestCharge,
      lowRequests: s.Low.requests,
      lowThrottled: s.Low.throttled,
      highRu: s.High.requestCharge,
      highRequests: s.High.requests,
      highThrottled: s.High.throttled,
    });
  };
  const sampler = (async () => {
    while (sampling) {
      take();
      await sleep(SAMPLE_MS);
    }
  })();
  const app = shape.app
    ? await startHand(env, { mode: 'app', container: name, docs: shape.docs, ruPerSecond: APP_SHARE * PROVISIONED })
    : undefined;
  let sentAt = Number.NaN;
  let changedAt = Number.NaN;
  let appCounts: Record<string, AppCounts> | undefined;
  try {
    if (app) {
      app.go();
      await sleep(2_000);
      app.send('mark alone');
      await sleep(APP_ALONE_MS);
      app.send('mark with-migration');
    }
    const readAtStart = priorityStats(cosmos).Low.documentsReturned;
    const run = await startRun(env, { container: name, ruBudget: shape.budget });
    const lower = shape.lowerBudget;
    const changing =
      lower === undefined
        ? Promise.resolve()
        : (async () => {
            while (priorityStats(cosmos).Low.documentsReturned - readAtStart < 0.6 * shape.docs) await sleep(100);
            sentAt = Date.now();
            const answer = await run.handle.executeUpdate(setBudgetUpdate, { args: [{ ruPerSecond: lower }] });
            changedAt = Date.now();
            env.log(`  setBudget ${lower} answered after ${changedAt - sentAt} ms, inForce ${answer.inForce}`);
          })();
    const { report } = await result(run);
    await changing;
    if (app) {
      app.send('mark after');
      app.send('stop');
      appCounts = await app.result<Record<string, AppCounts>>();
    }
    if (report.status !== 'completed') throw new Error(`budget run: ${report.status} (${report.reason})`);
    const at = (phase: string) => Date.parse(report.timeline.find((t) => t.phase === phase)!.at);
    take();
    const analysed = analyse(samples, shape, { from: at('migrating'), to: at('verifying'), sentAt, changedAt });
    return {
      ...analysed,
      ...(appCounts
        ? {
            app: appCounts,
            appP99LatencyRatio: round(appCounts['with-migration']!.p99Ms / appCounts.alone!.p99Ms, 2),
          }
        : {}),
    };
  } finally {
    sampling = false;
    await sampler;
    if (app && !appCounts) app.send('stop');
    await worker.stop();
    cosmos.control.setRuModel(false);
    await setPriorityBasedExecution(env, true);
    await dropContainer(env, name);
  }
}

/** The value of a counter at time t, interpolated between samples. */
function valueAt(samples: Sample[], t: number, key: keyof Sample): number {
  let prev = samples[0]!;
  for (const s of samples) {
    if (s.at >= t) {
      if (s.at === prev.at) return s[key];
      const f = (t - prev.at) / (s.at - prev.at);
      return prev[key] + f * (s[key] - prev[key]);
    }
    prev = s;
  }
  return prev[key];
}

function analyse(
  samples: Sample[],
  shape: RunShape,
  r: { from: number; to: number; sentAt: number; changedAt: number }
): Omit<BudgetRun, 'app' | 'appP99LatencyRatio'> {
  const lower = shape.lowerBudget ?? shape.budget;
  const budgetIntegral = (a: number, b: number): number => {
    if (!(r.changedAt > a)) return ((b - a) / 1000) * (r.changedAt <= a ? lower : shape.budget);
    if (r.changedAt >= b) return ((b - a) / 1000) * shape.budget;
    return ((r.changedAt - a) / 1000) * shape.budget + ((b - r.changedAt) / 1000) * lower;
  };
  const delta = (key: keyof Sample, a = r.from, b = r.to) => valueAt(samples, b, key) - valueAt(samples, a, key);
  const migrationRu = delta('lowRu');
  const budgetRuIntegral = budgetIntegral(r.from, r.to);
  const maxWindow = (ms: number) => {
    let max = 0;
    for (let t = r.from; t + ms <= r.to; t += SAMPLE_MS / 5) {
      max = Math.max(max, delta('lowRu', t, t + ms) / budgetIntegral(t, t + ms));
    }
    return max;
  };
  // Figure 3: from sending the Update, the first trailing second whose rate is within 10 % of the new budget.
  let effect = Number.NaN;
  if (Number.isFinite(r.sentAt)) {
    for (let t = r.sentAt; t <= r.to; t += 50) {
      if (delta('lowRu', t - 1000, t) <= 1.1 * lower) {
        effect = (t - r.sentAt) / 1000;
        break;
      }
    }
  }
  const rate = (a: number, b: number) => (b > a ? delta('lowRu', a, b) / ((b - a) / 1000) : Number.NaN);
  const changed = Number.isFinite(r.changedAt) ? r.changedAt : r.to;
  const migrationRequests = delta('lowRequests');
  const appRequests = delta('highRequests');
  const seconds = (r.to - r.from) / 1000;
  return {
    label: shape.label,
    priorityBased: shape.priorityBased,
    provisioned: PROVISIONED,
    partitions: PARTITIONS,
    budget: shape.budget,
    ...(shape.lowerBudget !== undefined ? { lowerBudget: shape.lowerBudget } : {}),
    docs: shape.docs,
    utilization: round(migrationRu / budgetRuIntegral),
    maxWindowRatio1s: round(maxWindow(1_000)),
    maxWindowRatio5s: round(maxWindow(5_000)),
    migrationThrottledShare: round(delta('lowThrottled') / Math.max(1, migrationRequests), 4),
    appThrottledShare: round(delta('highThrottled') / Math.max(1, appRequests), 4),
    ...(shape.lowerBudget !== undefined
      ? {
          budgetChangeEffectSeconds: round(effect, 2),
          budgetUpdateAnswerSeconds: round((r.changedAt - r.sentAt) / 1000, 2),
        }
      : {}),
    migrationRu: Math.round(migrationRu),
    budgetRuIntegral: Math.round(budgetRuIntegral),
    migratingSeconds: round(seconds, 2),
    migrationRequests,
    migrationThrottled: delta('lowThrottled'),
    appRequests,
    appThrottled: delta('highThrottled'),
    ...(shape.app ? { appShareOfProvisioned: round(delta('highRu') / seconds / PROVISIONED) } : {}),
    ruPerSecondBefore: Math.round(rate(r.from, changed)),
    ruPerSecondAfter: Math.round(rate(changed, r.to)),
  };
}

export interface BudgetResult {
  priorityOff: BudgetRun;
  priorityOn: BudgetRun;
  lowShare: BudgetRun;
}

/**
 * The three runs. `docs`: the contended runs' documents (at 1 500 RU/s about 200 documents a second, ~6.7 RU each
 * in the emulator); the low share's run takes a tenth of it (about 35 a second).
 */
export async function budgetFigure(env: BenchEnv, o: { docs: number; nodeArgs: string[] }): Promise<BudgetResult> {
  const common = { docs: o.docs, budget: BUDGET, app: true, nodeArgs: o.nodeArgs };
  const priorityOff = await budgetRun(env, { ...common, label: 'priority-off', priorityBased: false });
  env.log(`  ${JSON.stringify(priorityOff)}`);
  const priorityOn = await budgetRun(env, {
    ...common,
    label: 'priority-on',
    priorityBased: true,
    lowerBudget: LOWER_BUDGET,
  });
  env.log(`  ${JSON.stringify(priorityOn)}`);
  const lowShare = await budgetRun(env, {
    label: 'low-share',
    docs: Math.max(500, Math.round(o.docs / 10)),
    budget: LOW_SHARE_PER_RANGE * PARTITIONS,
    priorityBased: false,
    app: false,
    nodeArgs: o.nodeArgs,
  });
  env.log(`  ${JSON.stringify(lowShare)}`);
  return { priorityOff, priorityOn, lowShare };
}
