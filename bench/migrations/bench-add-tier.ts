/**
 * The benchmark's migration: a typical document transform (derive a field from two others, bump the version).
 * Plain default export, like any user's module.
 */
type Doc = { id: string; [field: string]: unknown };

export function addTier(doc: Doc): Doc {
  const orders = typeof doc.orders === 'number' ? doc.orders : 0;
  return { ...doc, tier: orders > 50 ? 'gold' : orders > 10 ? 'silver' : 'bronze' };
}

export default {
  id: 'bench-add-tier',
  description: 'Benchmark: add customers.tier from the order count',
  database: 'bench',
  container: 'bench-engine',
  fromVersion: 1,
  toVersion: 2,
  up: addTier,
  down(doc: Doc): Doc {
    const rest = { ...doc };
    delete rest.tier;
    return rest;
  },
};
