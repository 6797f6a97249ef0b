/**
 * planMigration: what a migration would do, measured before it does anything (the manual runbook's "estimate duration").
 * Counts the documents and the candidates, dry-runs the transform on a sample, measures RU per read from the
 * sample query and RU per write from a real write of a probe document of the sample's average size into the
 * runbook's history container (never a user document), and estimates the duration at the RU budget.
 */
import { planCost, REWRITE_SIDE_EFFECTS } from '../../common/cost';
import crypto from 'node:crypto';
import type { MigrationPlan, PlanInput, RoundTripCheck } from '../../common/activities';
import type { MigrationDocument } from '../../common/migration';
import { schemaChanges } from '../../common/schema-diff';
import { exportContainer } from '../arm/export';
import type { ActivityDeps } from '../deps';
import { countCandidates, countWhere, liveRanges, perRange } from './counts';
import { ensureHistoryContainer } from './history';
import { resolveTarget, type MigrationTarget } from './target';
import { roundTripDifferences } from './content';
import { partitionKeyOf, readPartitionKeyPaths, runTransform } from './transform';
import { candidateQuery, fieldRef, type VersionRule } from './versions';

/** The runbook's default verifySampleSize (common/runbook-input.ts). */
const DEFAULT_VERIFY_SAMPLE = 200;

/** Documents written per bulk call: the unit the unthrottled estimate counts in. */
const BULK_OPERATIONS = 100;
/** Round-trip mismatches listed (the count goes on). */
const MAX_ROUND_TRIP_MISMATCHES = 20;

/**
 * `down(up(doc))` for the sample documents `up` changes (`up` is the sample's own result), through the engine's
 * transform rules (stamping, id and partition key checks), compared with the document: the fields that differ, never
 * their values.
 */
async function checkRoundTrip(
  target: MigrationTarget,
  rule: VersionRule,
  changed: { doc: MigrationDocument; up: MigrationDocument }[],
  pkPaths: string[]
): Promise<RoundTripCheck> {
  const check: RoundTripCheck = { checked: 0, mismatched: 0, mismatches: [] };
  const down = target.definition.down!.bind(target.definition);
  const downRule: VersionRule = { ...rule, direction: 'down' };
  for (const { doc, up } of changed) {
    check.checked += 1;
    const back = await runTransform(down, up, downRule, pkPaths);
    let mismatch: RoundTripCheck['mismatches'][number] | undefined;
    if (back.kind === 'fail') mismatch = { id: doc.id, fields: [], error: back.error };
    else {
      // down() returning undefined leaves the document as up() wrote it.
      const fields = roundTripDifferences(doc, back.kind === 'change' ? back.doc : up, rule.field, rule.from);
      if (fields.length > 0) mismatch = { id: doc.id, fields };
    }
    if (!mismatch) continue;
    check.mismatched += 1;
    if (check.mismatches.length < MAX_ROUND_TRIP_MISMATCHES) check.mismatches.push(mismatch);
  }
  return check;
}

/** Documents at the version the direction leads to: up, `toVersion`; down, `fromVersion`. */
function targetCondition(rule: VersionRule): { where: string; parameters: { name: string; value: number | string }[] } {
  return {
    where: `${fieldRef(rule.field)} = @v`,
    parameters: [{ name: '@v', value: rule.direction === 'up' ? rule.to : rule.from }],
  };
}

async function measureWrite(deps: ActivityDeps, database: string, bytes: number): Promise<{ ru: number; ms: number }> {
  await ensureHistoryContainer(deps, database);
  const container = deps.cosmos.database(database).container(deps.control.historyContainer);
  const id = `plan-probe-${crypto.randomUUID()}`;
  const probe = { id, migrationId: '(plan-probe)', padding: 'x'.repeat(Math.max(0, Math.round(bytes) - 120)) };
  const started = Date.now();
  const written = await container.items.upsert(probe);
  const ms = Date.now() - started;
  await container.item(id, probe.migrationId).delete();
  return { ru: written.requestCharge ?? 0, ms };
}

export async function planMigration(deps: ActivityDeps, input: PlanInput): Promise<MigrationPlan> {
  const target = resolveTarget(deps.registry, input);
  const container = deps.cosmos.database(target.database).container(target.container);
  const ruBudget = input.ruBudget && input.ruBudget > 0 ? input.ruBudget : undefined;
  const sample: MigrationPlan['sample'] = {
    size: 0,
    wouldChange: 0,
    wouldSkip: 0,
    failures: [],
    averageDocumentBytes: 0,
    ruPerWrite: 0,
    ruPerRead: 0,
  };
  // Container steps only, or a container the migration is about to create: nothing to migrate or estimate.
  const exists = (await exportContainer(deps, { database: target.database, container: target.container })) !== null;
  // The total and the candidates are independent aggregates: asked at once.
  const [total, toMigrate, atTarget] = await Promise.all([
    exists ? countWhere(container) : { count: 0, ruConsumed: 0 },
    exists && target.rule && target.transform ? countCandidates(container, target.rule) : undefined,
    exists && target.rule ? countWhere(container, targetCondition(target.rule)) : undefined,
  ]);
  if (!target.rule || !target.transform || !toMigrate) {
    return {
      totalDocuments: total.count,
      documentsToMigrate: 0,
      ...(atTarget ? { documentsAtTarget: atTarget.count } : {}),
      sample,
      estimatedSeconds: 0,
      ...(ruBudget ? { ruBudget } : {}),
    };
  }
  const pkPaths = await readPartitionKeyPaths(container);

  // The sample is spread over the physical partitions: an even share of it from the first candidates of each range
  // (a partition's documents can differ: other tenants, other ages), read in pages with the range's header.
  let readRu = 0;
  const readStarted = Date.now();
  const share = Math.max(1, Math.ceil(input.sampleSize / Math.max((await liveRanges(container)).length, 1)));
  const parts =
    input.sampleSize > 0
      ? await perRange(container, 'sample', async (options) => {
          const part: MigrationDocument[] = [];
          const iterator = container.items.query<MigrationDocument>(candidateQuery(target.rule!), {
            ...options,
            maxItemCount: Math.min(share, 1000),
          });
          while (part.length < share && iterator.hasMoreResults()) {
            const page = await iterator.fetchNext();
            readRu += page.requestCharge ?? 0;
            part.push(...(page.resources ?? []));
          }
          return part.slice(0, share);
        })
      : [];
  const docs: MigrationDocument[] = parts.flat().slice(0, input.sampleSize);
  const readMs = Date.now() - readStarted;

  const transformStarted = Date.now();
  let bytes = 0;
  const changed: { doc: MigrationDocument; up: MigrationDocument }[] = [];
  for (const doc of docs) {
    bytes += Buffer.byteLength(JSON.stringify(doc));
    const outcome = await runTransform(target.transform, doc, target.rule, pkPaths);
    if (outcome.kind === 'change') {
      sample.wouldChange += 1;
      changed.push({ doc, up: outcome.doc });
    } else if (outcome.kind === 'skip') sample.wouldSkip += 1;
    else sample.failures.push({ id: doc.id, partitionKey: partitionKeyOf(doc, pkPaths) ?? null, error: outcome.error });
  }
  const transformMs = Date.now() - transformStarted;
  sample.size = docs.length;
  sample.averageDocumentBytes = docs.length > 0 ? Math.round(bytes / docs.length) : 0;
  sample.ruPerRead = docs.length > 0 ? readRu / docs.length : 0;

  const write = await measureWrite(deps, target.database, sample.averageDocumentBytes || 512);
  sample.ruPerWrite = write.ru;

  const cost = planCost({
    documentsToMigrate: toMigrate.count,
    totalDocuments: total.count,
    ruPerRead: sample.ruPerRead,
    ruPerWrite: sample.ruPerWrite,
    preimages: input.preimages === true,
    verifySampleSize: input.verifySampleSize ?? DEFAULT_VERIFY_SAMPLE,
    ...(ruBudget ? { ruBudget } : {}),
  });
  let estimatedSeconds: number;
  if (ruBudget) {
    // The migration's reads, writes and pre-image writes share the budget (verification runs after, unthrottled).
    estimatedSeconds = (cost.readRu + cost.writeRu + cost.preimageRu) / ruBudget;
  } else {
    // Unthrottled: the sample's read and transform time per document, plus a bulk call per 100 documents
    // priced at the probe write's latency. A rough figure: the real rate depends on the account's throughput.
    const perDocMs = docs.length > 0 ? (readMs + transformMs) / docs.length : 0;
    estimatedSeconds = (toMigrate.count * perDocMs + Math.ceil(toMigrate.count / BULK_OPERATIONS) * write.ms) / 1000;
  }
  const roundTrip =
    input.direction === 'up' && typeof target.definition.down === 'function'
      ? await checkRoundTrip(target, target.rule, changed, pkPaths)
      : undefined;
  // Field names only: what `up` adds, removes or retypes on the sample documents it changes.
  const schema =
    changed.length > 0
      ? schemaChanges(
          changed.map((c) => c.doc),
          changed.map((c) => c.up)
        )
      : undefined;
  return {
    totalDocuments: total.count,
    documentsToMigrate: toMigrate.count,
    ...(atTarget ? { documentsAtTarget: atTarget.count } : {}),
    sample,
    estimatedSeconds: Math.round(estimatedSeconds * 10) / 10,
    ...(ruBudget ? { ruBudget } : {}),
    cost,
    sideEffects: [...REWRITE_SIDE_EFFECTS],
    ...(roundTrip ? { roundTrip } : {}),
    ...(schema ? { schema } : {}),
  };
}
