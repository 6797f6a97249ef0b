/**
 * checkTargetCopies: before a rollback deletes the target of a copy that never cut over, the proof that it holds only
 * the run's copies (no consent is needed when the application never wrote to it). Every target document, range
 * by range through the one reader (budgeted, Low priority), is compared whole with what the run would have written:
 * up() of its source document (derive.ts, the comparison verifyCopy makes on its sample). The source documents of a
 * page are asked for once, cross-partition, by the page's ids, and matched by the source key a copy carries (its
 * source partition key fields and id). A target document with no source document, or that differs from up() of it,
 * is counted as possibly the application's; only ids are kept, never contents.
 *
 * A copy the catch-up had not yet brought up to date (the source changed after it was written) differs too: it is
 * counted, and the operator is asked when the run cannot prove the target is only copies, never the other way round.
 * A page's progress is heartbeated, so a retried attempt goes on after it.
 */
import { isDeepStrictEqual } from 'node:util';
import type { CheckTargetCopiesInput, TargetCopiesCheck } from '../../common/copy';
import type { MigrationDocument } from '../../common/migration';
import type { ActivityDeps } from '../deps';
import { PageScan } from '../cosmos/budgeted-reads';
import { listFeedRanges, rangeQueryOptions } from '../cosmos/feed-ranges';
import { activityContext, statusOf } from '../cosmos/requests';
import { markChanges } from '../cosmos/changes-since';
import { RuBudget } from '../cosmos/ru-budget';
import { openCopy, type OpenCopy } from './context';
import { derive, sourceKeyOf, withoutSystemProperties } from './derive';
import { asStored } from './verify';

/** Ids named in the result at most (the count is always whole). */
export const MAX_IDS_NAMED = 100;

interface Checkpoint extends TargetCopiesCheck {
  /** Taken before the first page: kept across retries, so a change during any attempt is after it. */
  changesFrom?: string;
  /** The target range being scanned (index into its ranges as listed) and where its scan stands. */
  range: number;
  continuation?: string;
}

export async function checkTargetCopies(deps: ActivityDeps, input: CheckTargetCopiesInput): Promise<TargetCopiesCheck> {
  let open: OpenCopy;
  try {
    open = await openCopy(deps, input);
  } catch (err) {
    // Gone already (a retried rollback after its delete): nothing in it can be the application's.
    if (statusOf(err) === 404) return { documents: 0, notCopies: 0, ids: [], ruConsumed: 0 };
    throw err;
  }
  const resumed = activityContext()?.info.heartbeatDetails as Checkpoint | undefined;
  const state: Checkpoint = resumed
    ? { ...resumed, ids: [...resumed.ids] }
    : { range: 0, documents: 0, notCopies: 0, ids: [], ruConsumed: 0 };
  state.changesFrom ??= await markChanges(open.target);
  activityContext()?.heartbeat({ ...state, ids: [...state.ids] } satisfies Checkpoint);
  const budget = new RuBudget(input.ruBudget);
  const ranges = await listFeedRanges(open.target);
  for (; state.range < ranges.length; state.range += 1, state.continuation = undefined) {
    const options = await rangeQueryOptions(open.target, ranges[state.range]!);
    const pages = new PageScan<MigrationDocument>(
      open.target,
      'SELECT * FROM c',
      { ...options, maxItemCount: input.batchSize ?? 100 },
      state.continuation,
      budget
    );
    for (;;) {
      const page = await pages.next();
      state.ruConsumed += page.charge;
      await checkPage(open, page.docs, budget, state);
      state.continuation = page.continuation;
      // A copy: the details are sent later (throttled), and the ids go on growing meanwhile.
      activityContext()?.heartbeat({ ...state, ids: [...state.ids] } satisfies Checkpoint);
      if (!page.continuation) break;
    }
  }
  return {
    documents: state.documents,
    notCopies: state.notCopies,
    ids: state.ids,
    ruConsumed: state.ruConsumed,
    changesFrom: state.changesFrom,
  };
}

async function checkPage(open: OpenCopy, docs: MigrationDocument[], budget: RuBudget, state: Checkpoint) {
  if (docs.length === 0) return;
  const { shape } = open;
  const sources = new Map<string, MigrationDocument>();
  const scan = new PageScan<MigrationDocument>(
    open.source,
    {
      query: 'SELECT * FROM c WHERE ARRAY_CONTAINS(@ids, c.id)',
      parameters: [{ name: '@ids', value: [...new Set(docs.map((d) => d.id))] }],
    },
    { maxItemCount: 1000 },
    undefined,
    budget
  );
  for (;;) {
    const found = await scan.next();
    state.ruConsumed += found.charge;
    for (const doc of found.docs) sources.set(sourceKeyOf(doc, shape.sourcePaths), doc);
    if (!found.continuation) break;
  }
  for (const doc of docs) {
    state.documents += 1;
    const source = sources.get(sourceKeyOf(doc, shape.sourcePaths));
    const wanted = source ? await derive(shape, source) : undefined;
    const copy = wanted?.kind === 'copy' && isDeepStrictEqual(withoutSystemProperties(doc), asStored(wanted.doc));
    if (copy) continue;
    state.notCopies += 1;
    if (state.ids.length < MAX_IDS_NAMED) state.ids.push(doc.id);
  }
}
