/**
 * Figure 2 (RU budget) and figure 3 (live controls), in one run with the RU model on: a container of 20 000 RU/s over
 * 2 physical partitions, the migration's budget 10 000 RU/s, and an application (High priority, the default) reading
 * and replacing documents on the same container all along. Once the migration has read 60 % of the documents, a
 * `setBudget` Update halves the budget; the seconds from sending it until the migration's rate comes down to it are
 * figure 3. The Update answers once the new budget is in force (the ranges started under the old one have stopped):
 * the 5 s windows hold the migration to the old budget until the answer and to the new one from it.
 *
 * The emulator counts requests by priority (stats().byPriority): the migration sends everything Low, the
 * application High. Sampled every 250 ms: utilization is the migration's RU over the budget integrated over the
 * migrating phase; the window ratio the largest 5 s window's RU over the budget in it.
 */
import type { Container } from '@azure/cosmos';
import { setBudgetUpdate } from '../../workflows/messages';
import { createContainer, dropContainer, seed, type Doc } from '../data';
import type { BenchEnv } from '../env';
import { result, startRun } from '../runbook';
import { priorityStats, round, sleep } from '../timing';

const PROVISIONED = 20_000; // 2 physical partitions
const BUDGET = 10_000;
const LOWER_BUDGET = 5_000;
const SAMPLE_MS = 250;
const WINDOW_MS = 5_000;

interface Sample {
  at: number;
  lowRu: number;
  lowRequests: number;
  lowThrottled: number;
  highRequests: number;
  highThrottled: number;
  lowRead: number;
}

export interface BudgetResult {
  provisioned: number;
  budget: number;
  lowerBudget: number;
  docs: number;
  utilization: number;
  maxWindowRatio: number;
  migrationThrottledShare: number;
  appThrottledShare: number;
  budgetChangeEffectSeconds: number;
  /** Seconds from sending setBudget to its answer, which comes once the new budget is in force. */
  budgetUpdateAnswerSeconds: number;
  migrationRu: number;
  budgetRuIntegral: number;
  migratingSeconds: number;
  migrationRequests: number;
  migrationThrottled: number;
  appRequests: number;
  appThrottled: number;
  appWrites: number;
  ruPerSecondBefore: number;
  ruPerSecondAfter: number;
}

/** The application: 2 loops reading a random document and replacing it (ifMatch; a 412 means the migration won). */
function application(container: Container, docs: number) {
  let stopped = false;
  let writes = 0;
  const loop = async () => {
    while (!stopped) {
      const i = Math.floor(Math.random() * docs);
      const id = `c-${String(i).padStart(7, '0')}`;
      try {
        const { resource } = await container.item(id, `t-${i % 1000}`).read<Doc>();
        if (!resource) continue;
        await container.item(id, resource.tenantId).replace(
          { ...resource, visits: ((resource.visits as number) ?? 0) + 1 },
          {
            accessCondition: { type: 'IfMatch', condition: resource._etag },
          }
        );
        writes++;
      } catch {
        // 412 (the migration replaced it first) or a 429 the SDK gave up on: the emulator counted it.
      }
      await sleep(5);
    }
  };
  const loops = [loop(), loop()];
  return {
    get writes() {
      return writes;
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

export async function budgetFigure(env: BenchEnv, o: { docs: number; nodeArgs: string[] }): Promise<BudgetResult> {
  const { cosmos } = env.stack;
  cosmos.control.setRuModel(false);
  env.log(`RU budget: seeding ${o.docs} documents into ${PROVISIONED} RU/s ...`);
  const container = await createContainer(env, 'budget', PROVISIONED);
  await seed(container, o.docs);
  cosmos.control.setRuModel(true);
  const worker = await env.startWorker(o.nodeArgs);
  const samples: Sample[] = [];
  let sampling = true;
  const take = () => {
    const s = priorityStats(cosmos);
    samples.push({
      at: Date.now(),
      lowRu: s.Low.requestCharge,
      lowRequests: s.Low.requests,
      lowThrottled: s.Low.throttled,
      highRequests: s.High.requests,
      highThrottled: s.High.throttled,
      lowRead: s.Low.documentsReturned,
    });
  };
  const sampler = (async () => {
    while (sampling) {
      take();
      await sleep(SAMPLE_MS);
    }
  })();
  const app = application(container, o.docs);
  let sentAt = Number.NaN;
  let changedAt = Number.NaN;
  try {
    const readAtStart = priorityStats(cosmos).Low.documentsReturned;
    const run = await startRun(env, { container: 'budget', ruBudget: BUDGET });
    const changing = (async () => {
      while (priorityStats(cosmos).Low.documentsReturned - readAtStart < 0.6 * o.docs) await sleep(100);
      sentAt = Date.now();
      const answer = await run.handle.executeUpdate(setBudgetUpdate, { args: [{ ruPerSecond: LOWER_BUDGET }] });
      changedAt = Date.now();
      env.log(`  setBudget ${LOWER_BUDGET} answered after ${changedAt - sentAt} ms, inForce ${answer.inForce}`);
    })();
    const { report } = await result(run);
    await changing;
    if (report.status !== 'completed') throw new Error(`budget run: ${report.status} (${report.reason})`);
    const at = (phase: string) => Date.parse(report.timeline.find((t) => t.phase === phase)!.at);
    const from = at('migrating');
    const to = at('verifying');
    take();
    return analyse(samples, { from, to, sentAt, changedAt, docs: o.docs, appWrites: app.writes });
  } finally {
    sampling = false;
    await sampler;
    await app.stop();
    await worker.stop();
    cosmos.control.setRuModel(false);
    await dropContainer(env, 'budget');
  }
}

function budgetAt(t: number, changedAt: number): number {
  return t >= changedAt ? LOWER_BUDGET : BUDGET;
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

function budgetIntegral(a: number, b: number, changedAt: number): number {
  if (!(changedAt > a)) return ((b - a) / 1000) * budgetAt(a, changedAt);
  if (changedAt >= b) return ((b - a) / 1000) * BUDGET;
  return ((changedAt - a) / 1000) * BUDGET + ((b - changedAt) / 1000) * LOWER_BUDGET;
}

function analyse(
  samples: Sample[],
  r: { from: number; to: number; sentAt: number; changedAt: number; docs: number; appWrites: number }
): BudgetResult {
  const delta = (key: keyof Sample, a = r.from, b = r.to) => valueAt(samples, b, key) - valueAt(samples, a, key);
  const migrationRu = delta('lowRu');
  const budgetRuIntegral = budgetIntegral(r.from, r.to, r.changedAt);
  let maxWindowRatio = 0;
  for (let t = r.from; t + WINDOW_MS <= r.to; t += SAMPLE_MS) {
    const ratio = delta('lowRu', t, t + WINDOW_MS) / budgetIntegral(t, t + WINDOW_MS, r.changedAt);
    maxWindowRatio = Math.max(maxWindowRatio, ratio);
  }
  // Figure 3: from sending the Update, the first trailing second whose rate is within 10 % of the new budget.
  let effect = Number.NaN;
  if (Number.isFinite(r.sentAt)) {
    for (let t = r.sentAt; t <= r.to; t += 50) {
      if (delta('lowRu', t - 1000, t) <= 1.1 * LOWER_BUDGET) {
        effect = (t - r.sentAt) / 1000;
        break;
      }
    }
  }
  const rate = (a: number, b: number) => (b > a ? delta('lowRu', a, b) / ((b - a) / 1000) : Number.NaN);
  const changed = Number.isFinite(r.changedAt) ? r.changedAt : r.to;
  const migrationRequests = delta('lowRequests');
  const appRequests = delta('highRequests');
  return {
    provisioned: PROVISIONED,
    budget: BUDGET,
    lowerBudget: LOWER_BUDGET,
    docs: r.docs,
    utilization: round(migrationRu / budgetRuIntegral),
    maxWindowRatio: round(maxWindowRatio),
    migrationThrottledShare: round(delta('lowThrottled') / Math.max(1, migrationRequests), 4),
    appThrottledShare: round(delta('highThrottled') / Math.max(1, appRequests), 4),
    budgetChangeEffectSeconds: round(effect, 2),
    budgetUpdateAnswerSeconds: round((r.changedAt - r.sentAt) / 1000, 2),
    migrationRu: Math.round(migrationRu),
    budgetRuIntegral: Math.round(budgetRuIntegral),
    migratingSeconds: round((r.to - r.from) / 1000, 2),
    migrationRequests,
    migrationThrottled: delta('lowThrottled'),
    appRequests,
    appThrottled: delta('highThrottled'),
    appWrites: r.appWrites,
    ruPerSecondBefore: Math.round(rate(r.from, changed)),
    ruPerSecondAfter: Math.round(rate(changed, r.to)),
  };
}
