/**
 * Customers: a composite index on (tenantId, lastName) for "customers of a tenant by last name" queries, and the
 * free-text `notes` field left out of the index to save write RUs. An indexing-policy change only.
 */
import { defineMigration } from '../common/migration';

export default defineMigration({
  id: '003-index-customers-by-last-name',
  description: 'Index customers by (tenantId, lastName) and stop indexing notes',
  database: 'demo',
  container: {
    name: 'customers',
    indexingPolicy: {
      indexingMode: 'consistent',
      automatic: true,
      includedPaths: [{ path: '/*' }],
      excludedPaths: [{ path: '/notes/?' }],
      compositeIndexes: [
        [
          { path: '/tenantId', order: 'ascending' },
          { path: '/lastName', order: 'ascending' },
        ],
      ],
    },
  },
});
