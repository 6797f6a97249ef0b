/**
 * verifyCopy: the copy checked at the cutover point (the source no longer written, the catch-up drained), before the
 * application is pointed at the target (docs/migrations.md "Copy mode"):
 * - documents by version: the source's counts as up() moves them (fromVersion and missing become toVersion, other
 *   versions stay) must equal the target's, and the totals must be equal;
 * - a random sample of every source feed range, drawn from all its pages (ids and keys scanned, Reservoir; not the
 *   first page, which holds the oldest documents only), each document read and compared whole with its copy
 *   (derive.ts: up() of it, read in the target at the new partition key); a copy that differs or is missing is named
 *   by source id and key only.
 */
import type { DocumentFailure } from '../../common/activities';
import type { VerifyCopyInput, VerifyCopyResult } from '../../common/copy';
import type { MigrationDocument } from '../../common/migration';
import { isDeepStrictEqual } from 'node:util';
import type { ActivityDeps } from '../deps';
import { PageScan, readCurrent } from '../cosmos/budgeted-reads';
import { countByVersion } from '../cosmos/counts';
import { listFeedRanges, rangeQueryOptions } from '../cosmos/feed-ranges';
import { RuBudget } from '../cosmos/ru-budget';
import { partitionKeyOf } from '../cosmos/transform';
import { Reservoir, sampledKey, sampleKeysSelect } from '../cosmos/reservoir';
import { MISSING_VERSION_KEY } from '../cosmos/versions';
import { openCopy } from './context';
import { heartbeat } from '../cosmos/requests';
import { derive, withoutSystemProperties } from './derive';

export async function verifyCopy(deps: ActivityDeps, input: VerifyCopyInput): Promise<VerifyCopyResult> {
  const open = await openCopy(deps, input);
  const { rule, sourcePaths } = open.shape;
  const [source, target] = await Promise.all([
    countByVersion(open.source, rule.field),
    countByVersion(open.target, rule.field),
  ]);
  const expectedByVersion: Record<string, number> = {};
  for (const [version, count] of Object.entries(source.counts)) {
    const moved = version === MISSING_VERSION_KEY || version === String(rule.from) ? String(rule.to) : version;
    expectedByVersion[moved] = (expectedByVersion[moved] ?? 0) + count;
  }
  const budget = new RuBudget();
  let ruConsumed = source.ruConsumed + target.ruConsumed;
  const charged = (ru: number) => (ruConsumed += ru);
  const mismatches: DocumentFailure[] = [];
  let sampled = 0;
  for (const feedRange of await listFeedRanges(open.source)) {
    const options = await rangeQueryOptions(open.source, feedRange);
    const scan = new PageScan<Record<string, unknown>>(
      open.source,
      sampleKeysSelect(sourcePaths), // ids and source keys only
      { ...options, maxItemCount: 1000 },
      undefined,
      budget
    );
    const sample = new Reservoir<Record<string, unknown>>(input.samplePerRange ?? 20);
    for (;;) {
      const page = await scan.next();
      charged(page.charge);
      for (const row of page.docs) sample.offer(row);
      heartbeat({ sampling: feedRange, scanned: sample.seen });
      if (!page.continuation) break;
    }
    for (const row of sample.items) {
      const sourceKey = sampledKey(row, sourcePaths) as Parameters<typeof readCurrent>[2];
      const doc = await readCurrent<MigrationDocument>(open.source, String(row.id), sourceKey, budget, charged);
      // Deleted since the scan: nothing to compare (at the cutover point the source is no longer written).
      if (!doc) continue;
      sampled += 1;
      const name = { id: doc.id, partitionKey: partitionKeyOf(doc, sourcePaths) ?? null };
      const wanted = await derive(open.shape, doc);
      if (wanted.kind === 'fail') {
        mismatches.push({ ...name, error: `not copied: ${wanted.error}` });
        continue;
      }
      const copy = await readCurrent<MigrationDocument>(open.target, doc.id, wanted.partitionKey, budget, charged);
      if (!copy) mismatches.push({ ...name, error: 'its copy is missing from the target' });
      else if (!isDeepStrictEqual(withoutSystemProperties(copy), asStored(wanted.doc))) {
        mismatches.push({ ...name, error: 'its copy differs from up() of it' });
      }
    }
  }
  const countsEqual = isDeepStrictEqual(expectedByVersion, target.counts) && source.total === target.total;
  return {
    passed: countsEqual && mismatches.length === 0,
    expectedByVersion,
    targetByVersion: target.counts,
    sourceTotal: source.total,
    targetTotal: target.total,
    sampled,
    mismatches,
    ruConsumed,
  };
}

/** A document as Cosmos stores it (JSON: undefined fields dropped), for a whole-document comparison. */
export function asStored(doc: MigrationDocument): MigrationDocument {
  return JSON.parse(JSON.stringify(doc)) as MigrationDocument;
}
