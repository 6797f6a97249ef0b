/**
 * The `_rid` order the query library sorts by before paging or aggregating a query without ORDER BY
 * (@zeit/cosmosdb-query 0.7.2 lib/helpers.js `sort`, called with no orders), made cheap:
 *
 * - The library compares through its generic `comparator`, which works out both values' types on every comparison:
 *   a count over one range of 12 500 documents spent ~100 ms there. With no orders and string rids (always, for
 *   documents) the same order comes from each rid read once and compared as strings, as `comparator` compares two
 *   strings (`a < b ? -1 : 1`); anything else takes the library's path.
 * - A query whose result is the same in any order (a whole-range aggregate without TOP or ORDER BY, e.g. the
 *   runbook's `SELECT VALUE COUNT(1)` per range) runs inside `withoutRidOrder` and is not sorted at all.
 *
 * A speed fix, not a behaviour one: test/local/cosmos-rid-order.test.ts checks the order and the counts are the
 * library's own.
 */
import { serverRequire } from './server-require';

type Sort = (collection: unknown[], getRid: (doc: unknown) => unknown, ...rest: unknown[]) => unknown[];

/** Set while a query whose result does not depend on the documents' order runs. */
let orderIrrelevant = false;

/** Runs a query whose result is the same in any document order; queries run synchronously, so this one only. */
export function withoutRidOrder<T>(run: () => T): T {
  orderIrrelevant = true;
  try {
    return run();
  } finally {
    orderIrrelevant = false;
  }
}

/** The library's own sort, for the test to compare with. */
export let librarySort: Sort | undefined;

export function patchRidSort(): void {
  const helpers = serverRequire<{ sort: Sort }>('@zeit/cosmosdb-query/lib/helpers');
  const original = helpers.sort;
  librarySort = original;
  helpers.sort = (collection, getRid, compositeIndexes, ...orders) => {
    if (orders.length > 0 || !Array.isArray(collection))
      return original(collection, getRid, compositeIndexes, ...orders);
    if (orderIrrelevant) return collection;
    const keyed: { rid: string; doc: unknown }[] = [];
    for (const doc of collection) {
      const rid = getRid(doc);
      if (typeof rid !== 'string') return original(collection, getRid, compositeIndexes, ...orders);
      keyed.push({ rid, doc });
    }
    keyed.sort((a, b) => (a.rid === b.rid ? 0 : a.rid < b.rid ? -1 : 1));
    return keyed.map((k) => k.doc);
  };
}
