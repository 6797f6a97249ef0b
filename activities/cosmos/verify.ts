/**
 * verifyMigration: the manual runbook's Step 3. Counts per version; candidates that remain and that the transform would
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
import { countByVersion, liveRanges, mapLimit, perRange } from './counts';

/** Sampled documents read at once. */
const POINT_READS_IN_PARALLEL = 8;
import { PROGRESS_NOT_REPORTED, readIndexProgress } from './index-progress';
import { heartbeat } from './requests';
import { resolveTarget, type MigrationTarget } from './target';
import { partitionKeyOf, readPartitionKeyPaths, runTransform } from './transform';
import { failureMessage } from '../../common/failure-message';
import { candidateQuery, fieldRef, type VersionRule } from './versions';
import { withoutDocumentValues } from './redact';

const EXAMPLES = 5;

function examples(ids: string[]): string {
  return ids.length > 0 ? ` (e.g. ${ids.slice(0, EXAMPLES).join(', ')})` : '';
}

/** Counted documents with the first few ids as examples: never a container's worth of ids in memory. */
class Tally {
  count = 0;
  readonly examples: string[] = [];
  add(id: string): void {
    this.count += 1;
    if (this.examples.length < EXAMPLES) this.examples.push(id);
  }
}

/**
 * Remaining candidates: would the transform still change them? Scanned range by range (a range that splits is
 * scanned again as its children, so its tallies are kept only once the range is complete), heartbeating per page.
 */
async function checkRemaining(container: Container, target: MigrationTarget, rule: VersionRule, pkPaths: string[]) {
  const wouldChange = new Tally();
  const failing = new Tally();
  let skipped = 0;
  const parts = await perRange(container, 'remaining', async (options) => {
    const part = { wouldChange: new Tally(), failing: new Tally(), skipped: 0 };
    const iterator = container.items.query<MigrationDocument>(candidateQuery(rule), { ...options, maxItemCount: 500 });
    while (iterator.hasMoreResults()) {
      const page = await iterator.fetchNext();
      for (const doc of page.resources ?? []) {
        const outcome = await runTransform(target.transform!, doc, rule, pkPaths);
        if (outcome.kind === 'change') part.wouldChange.add(doc.id);
        else if (outcome.kind === 'fail') part.failing.add(doc.id);
        else part.skipped += 1;
      }
      heartbeat({ remaining: wouldChange.count + failing.count + part.wouldChange.count + part.failing.count });
    }
    return part;
  });
  for (const part of parts) {
    for (const id of part.wouldChange.examples) wouldChange.add(id);
    wouldChange.count += part.wouldChange.count - part.wouldChange.examples.length;
    for (const id of part.failing.examples) failing.add(id);
    failing.count += part.failing.count - part.failing.examples.length;
    skipped += part.skipped;
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
 * A sample of migrated documents spread over the container: an even share of `size` from every physical partition
 * (the first migrated keys of each range, `TOP n` of a projection of id and partition key), then point reads of the
 * chosen ones. Reads about `size` documents whatever the container's size (the reservoir over every key it replaced
 * read them all).
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
  const ranges = await liveRanges(container);
  const share = Math.max(1, Math.ceil(size / Math.max(ranges.length, 1)));
  const parts = await perRange(container, 'sample', async (options) => {
    const { resources } = await container.items
      .query<Record<string, unknown>>(
        { query: `SELECT TOP ${share} c.id, ${pkSelect} FROM c WHERE ${where}`, parameters },
        options
      )
      .fetchAll();
    return resources;
  });
  const chosen = parts.flat().slice(0, size);
  // Point reads, a few at a time: one round trip each, so at 200 documents and a few ms per request one after the
  // other would be the longest step of verification.
  const read = await mapLimit(chosen, POINT_READS_IN_PARALLEL, async (row): Promise<MigrationDocument | undefined> => {
    const pkValues = pkPaths.map((_, i) => row[`pk${i}`]);
    const pk = pkPaths.length === 1 ? pkValues[0] : pkValues;
    const { resource } = await container.item(String(row.id), pk as never).read<MigrationDocument>();
    return resource;
  });
  return read.filter((doc): doc is MigrationDocument => doc !== undefined);
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
    report.remaining = remaining.wouldChange.count + remaining.failing.count;
    report.stillToMigrate = remaining.wouldChange.count;
    const source =
      input.direction === 'up'
        ? `version ${target.rule.from} (or without ${target.versionField})`
        : `version ${target.rule.to}`;
    if (remaining.wouldChange.count > 0) {
      problems.push(
        `${remaining.wouldChange.count} document(s) at ${source} still need migrating${examples(remaining.wouldChange.examples)}.`
      );
    }
    const allowed = input.allowedRemaining ?? 0;
    if (remaining.failing.count > allowed) {
      problems.push(
        `${remaining.failing.count} document(s) at ${source} fail the ${input.direction}() transform, more than the ${allowed} known failures${examples(remaining.failing.examples)}.`
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
          verdict = `verify() threw: ${failureMessage(err)}`;
        }
        if (verdict !== true) {
          const partitionKey = partitionKeyOf(doc, pkPaths) ?? null;
          const failure: DocumentFailure = {
            id: doc.id,
            partitionKey,
            // verify() wrote the message and may quote the document: only its id and partition key may stay.
            error:
              typeof verdict === 'string'
                ? withoutDocumentValues(verdict, doc, [doc.id, partitionKey])
                : 'verify() returned neither true nor a message',
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
      // Counted page by page, never held: a violated relationship can return a container's worth of rows.
      const iterator = container.items.query(rel.query, { maxItemCount: 1000 });
      let rows = 0;
      while (iterator.hasMoreResults()) {
        rows += (await iterator.fetchNext()).resources?.length ?? 0;
        heartbeat({ relationship: rel.name, rows });
      }
      report.relationships.push({ name: rel.name, rows });
      if (rows > 0) problems.push(`relationship "${rel.name}" returned ${rows} row(s); it must return none.`);
    }
  }

  report.ok = problems.length === 0;
  return report;
}
