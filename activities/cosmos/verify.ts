/**
 * verifyMigration: the seed's Step 3. Counts per version; candidates that remain and that the transform would
 * still change (those it skips are fine; those that fail count against `allowedRemaining`, the failures already
 * recorded during the migration); a sample of migrated documents, spread over the whole container, checked by the
 * module's own `verify`; relationship queries that must return no rows; and the container's properties against the
 * module's container steps. Each problem is a sentence in `problems`; ok means there are none.
 */
import type { Container } from '@azure/cosmos';
import type { DocumentFailure, VerificationReport, VerifyInput } from '../../common/activities';
import type { MigrationDocument } from '../../common/migration';
import { differencesFromSteps } from '../arm/container-steps';
import { exportContainer } from '../arm/export';
import type { ActivityDeps } from '../deps';
import { countByVersion } from './counts';
import { PROGRESS_NOT_REPORTED, readIndexProgress } from './index-progress';
import { heartbeat } from './requests';
import { resolveTarget, type MigrationTarget } from './target';
import { errorMessage, partitionKeyOf, readPartitionKeyPaths, runTransform } from './transform';
import { candidateQuery, fieldRef, type VersionRule } from './versions';

const EXAMPLES = 5;

function examples(ids: string[]): string {
  return ids.length > 0 ? ` (e.g. ${ids.slice(0, EXAMPLES).join(', ')})` : '';
}

/** Remaining candidates: would the transform still change them? */
async function checkRemaining(container: Container, target: MigrationTarget, rule: VersionRule, pkPaths: string[]) {
  const wouldChange: string[] = [];
  const failing: string[] = [];
  let skipped = 0;
  const iterator = container.items.query<MigrationDocument>(candidateQuery(rule), { maxItemCount: 500 });
  while (iterator.hasMoreResults()) {
    const page = await iterator.fetchNext();
    for (const doc of page.resources ?? []) {
      const outcome = await runTransform(target.transform!, doc, rule, pkPaths);
      if (outcome.kind === 'change') wouldChange.push(doc.id);
      else if (outcome.kind === 'fail') failing.push(doc.id);
      else skipped += 1;
    }
    heartbeat({ remaining: wouldChange.length + failing.length });
  }
  return { wouldChange, failing, skipped };
}

/** The condition of documents at the version this direction leads to (down: fromVersion or no version field). */
function migratedCondition(rule: VersionRule): {
  where: string;
  parameters: { name: string; value: number | string }[];
} {
  const f = fieldRef(rule.field);
  return rule.direction === 'up'
    ? { where: `${f} = @v`, parameters: [{ name: '@v', value: rule.to }] }
    : { where: `(NOT IS_DEFINED(${f}) OR ${f} = @v)`, parameters: [{ name: '@v', value: rule.from }] };
}

/**
 * A sample of migrated documents spread over the container: a reservoir sample of the keys (a projection scan of
 * id and partition key only), then point reads of the chosen ones.
 */
async function sampleMigrated(
  container: Container,
  rule: VersionRule,
  pkPaths: string[],
  size: number
): Promise<MigrationDocument[]> {
  if (size <= 0) return [];
  const { where, parameters } = migratedCondition(rule);
  const pkSelect = pkPaths
    .map(
      (p, i) =>
        `c${p
          .split('/')
          .slice(1)
          .map((s) => `[${JSON.stringify(s)}]`)
          .join('')} AS pk${i}`
    )
    .join(', ');
  const iterator = container.items.query<Record<string, unknown>>(
    { query: `SELECT c.id, ${pkSelect} FROM c WHERE ${where}`, parameters },
    { maxItemCount: 1000 }
  );
  const reservoir: Record<string, unknown>[] = [];
  let seen = 0;
  while (iterator.hasMoreResults()) {
    const page = await iterator.fetchNext();
    for (const row of page.resources ?? []) {
      seen += 1;
      if (reservoir.length < size) reservoir.push(row);
      else {
        const j = Math.floor(Math.random() * seen);
        if (j < size) reservoir[j] = row;
      }
    }
  }
  const docs: MigrationDocument[] = [];
  for (const row of reservoir) {
    const pkValues = pkPaths.map((_, i) => row[`pk${i}`]);
    const pk = pkPaths.length === 1 ? pkValues[0] : pkValues;
    const { resource } = await container.item(String(row.id), pk as never).read<MigrationDocument>();
    if (resource) docs.push(resource);
  }
  return docs;
}

export async function verifyMigration(deps: ActivityDeps, input: VerifyInput): Promise<VerificationReport> {
  const target = resolveTarget(deps.registry, input);
  const ref = { database: target.database, container: target.container };
  const container = deps.cosmos.database(ref.database).container(ref.container);
  const problems: string[] = [];
  const report: VerificationReport = {
    ok: false,
    problems,
    countsByVersion: {},
    remaining: 0,
    sampled: 0,
    sampleFailures: [],
    relationships: [],
  };

  const exported = await exportContainer(deps, ref);
  const steps = target.steps;
  if (input.direction === 'up' && steps) {
    for (const d of differencesFromSteps(steps, exported)) problems.push(`${ref.database}/${ref.container}: ${d}.`);
  }
  if (!exported) {
    // After down, a container the migration created is meant to be gone; after up, differencesFromSteps said so.
    if (!steps?.create) problems.push(`container ${ref.database}/${ref.container} does not exist.`);
    report.ok = problems.length === 0;
    return report;
  }
  const progress = await readIndexProgress(container);
  report.indexTransformationProgress = progress;
  if (progress !== PROGRESS_NOT_REPORTED && progress < 100) {
    problems.push(`index transformation of ${ref.container} is at ${progress}%, not 100%: queries may miss documents.`);
  }

  report.countsByVersion = (await countByVersion(container, target.versionField)).counts;

  if (target.rule && target.transform) {
    const pkPaths = await readPartitionKeyPaths(container);
    const remaining = await checkRemaining(container, target, target.rule, pkPaths);
    report.remaining = remaining.wouldChange.length + remaining.failing.length;
    const source =
      input.direction === 'up'
        ? `version ${target.rule.from} (or without ${target.versionField})`
        : `version ${target.rule.to}`;
    if (remaining.wouldChange.length > 0) {
      problems.push(
        `${remaining.wouldChange.length} document(s) at ${source} still need migrating${examples(remaining.wouldChange)}.`
      );
    }
    const allowed = input.allowedRemaining ?? 0;
    if (remaining.failing.length > allowed) {
      problems.push(
        `${remaining.failing.length} document(s) at ${source} fail the ${input.direction}() transform, more than the ${allowed} known failures${examples(remaining.failing)}.`
      );
    }

    // bound: a module may call its own helpers through `this`, as in up() and down()
    const verify = target.definition.verify?.bind(target.definition);
    if (verify && input.direction === 'up') {
      const sample = await sampleMigrated(container, target.rule, pkPaths, input.sampleSize);
      report.sampled = sample.length;
      for (const doc of sample) {
        let verdict: true | string;
        try {
          verdict = await verify.call(target.definition, structuredClone(doc));
        } catch (err) {
          verdict = `verify() threw: ${errorMessage(err)}`;
        }
        if (verdict !== true) {
          const failure: DocumentFailure = {
            id: doc.id,
            partitionKey: partitionKeyOf(doc, pkPaths) ?? null,
            error: typeof verdict === 'string' ? verdict : 'verify() returned neither true nor a message',
          };
          report.sampleFailures.push(failure);
        }
      }
      if (report.sampleFailures.length > 0) {
        const shown = report.sampleFailures
          .slice(0, EXAMPLES)
          .map((f) => `${f.id}: ${f.error}`)
          .join('; ');
        problems.push(
          `${report.sampleFailures.length} of ${report.sampled} sampled document(s) fail verify(): ${shown}.`
        );
      }
    }
  }

  // Relationship queries describe what must not exist once the migration is done (orphans, dangling references).
  if (input.direction === 'up') {
    for (const rel of target.definition.relationships ?? []) {
      const { resources } = await container.items.query(rel.query).fetchAll();
      report.relationships.push({ name: rel.name, rows: resources.length });
      if (resources.length > 0)
        problems.push(`relationship "${rel.name}" returned ${resources.length} row(s); it must return none.`);
    }
  }

  report.ok = problems.length === 0;
  return report;
}
