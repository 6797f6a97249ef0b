/**
 * Customers: split `name` into `firstName` and `lastName` (schema version 1 → 2).
 *
 * Demo data (local/demo-seed.ts) is written before versioning: no `schemaVersion`, which counts as version 1.
 * `up` splits at the first space; `down` joins the two again and removes `schemaVersion`, so a document that never
 * had a version field comes back exactly as it was.
 */
import { defineMigration, type MigrationDocument } from '../common/migration';

type Customer = MigrationDocument & {
  name?: unknown;
  firstName?: unknown;
  lastName?: unknown;
  schemaVersion?: unknown;
};

export default defineMigration({
  id: '001-split-customer-name',
  description: 'Split customers.name into firstName and lastName',
  database: 'demo',
  container: 'customers',
  fromVersion: 1,
  toVersion: 2,
  up(doc: Customer) {
    if (typeof doc.name !== 'string') return undefined; // nothing to split: leave the document alone
    const name = doc.name.trim();
    const space = name.indexOf(' ');
    const migrated: Customer = {
      ...doc,
      firstName: space < 0 ? name : name.slice(0, space),
      lastName: space < 0 ? '' : name.slice(space + 1),
    };
    delete migrated.name;
    return migrated;
  },
  down(doc: Customer) {
    if (typeof doc.firstName !== 'string') return undefined;
    const original: Customer = {
      ...doc,
      name: [doc.firstName, doc.lastName].filter((part) => typeof part === 'string' && part !== '').join(' '),
    };
    delete original.firstName;
    delete original.lastName;
    delete original.schemaVersion; // absent ≡ version 1: the document comes back as it was before versioning
    return original;
  },
  verify(doc: Customer) {
    if (typeof doc.firstName !== 'string' || doc.firstName === '') return 'firstName is missing';
    if (typeof doc.lastName !== 'string') return 'lastName is missing';
    if ('name' in doc) return 'name is still present';
    return true;
  },
  relationships: [
    {
      name: 'no migrated customer keeps name',
      query: 'SELECT c.id FROM c WHERE c.schemaVersion = 2 AND IS_DEFINED(c.name)',
    },
  ],
});
