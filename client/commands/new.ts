/** `new <name>`: a migration module to fill in, named `<YYYYMMDDHHmmss>-<name>.ts` so files sort in creation order. */
import fs from 'node:fs';
import path from 'node:path';
import { print, type CliContext } from '../context';
import { emit } from '../output';
import { CliError } from '../errors';

export interface NewOptions {
  database?: string;
  container?: string;
}

export function timestamp(date = new Date()): string {
  const p = (value: number, width = 2) => String(value).padStart(width, '0');
  return (
    `${p(date.getUTCFullYear(), 4)}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}` +
    `${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`
  );
}

/** "Add Email Verified" → "add-email-verified". */
export function slug(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

export function migrationTemplate(id: string, options: NewOptions): string {
  const database = options.database ? `  database: '${options.database}',\n` : '';
  return `/**
 * ${id}
 *
 * A migration module: the default export is a plain object, so it needs no import from cosmos-runbook.
 * Try it with \`npm run migrate -- plan ${id}\` (a dry run: nothing is written), then
 * \`npm run migrate -- up ${id}\`.
 */

/** A document as the transform sees it (a copy; system properties such as _etag included). */
type Doc = { id: string; [field: string]: unknown };

export default {
  id: '${id}',
  description: 'TODO: say what this migration changes and why',
${database}  // The container the documents live in. For container steps (create it, change its indexing policy or
  // throughput), give an object instead: { name: '...', create: { partitionKey: '/tenantId' }, indexingPolicy: ... }
  container: '${options.container ?? 'TODO-container'}',
  // Documents whose versionField equals fromVersion are migrated by up() and stamped with toVersion; down() goes back.
  // Documents already at toVersion are skipped, so a re-run is harmless.
  versionField: 'schemaVersion',
  fromVersion: 1,
  toVersion: 2,

  /** Return the new document, or undefined to leave it as it is. Never change id or the partition key. */
  up(doc: Doc): Doc | undefined {
    return { ...doc /* TODO: the new shape, e.g. emailVerified: false */ };
  },

  /** The way back; without it a rollback restores the container to its point in time before the migration. */
  down(doc: Doc): Doc | undefined {
    return { ...doc /* TODO: undo up(), e.g. remove emailVerified */ };
  },

  /** Checked on a sample of migrated documents: true, or a message saying what is wrong. */
  verify(doc: Doc): true | string {
    return doc.schemaVersion === 2 ? true : \`document \${doc.id} is at version \${String(doc.schemaVersion)}\`;
  },

  // Queries that must return no rows once the migration is done, e.g. documents still in the old shape:
  // relationships: [{ name: 'no unverified flag missing', query: 'SELECT c.id FROM c WHERE NOT IS_DEFINED(c.emailVerified)' }],
};
`;
}

export async function newCommand(ctx: CliContext, name: string, options: NewOptions): Promise<number> {
  const base = slug(name);
  if (!base)
    throw new CliError(`"${name}" makes no file name`, 'use letters and digits, e.g. `new add-email-verified`');
  const id = `${timestamp()}-${base}`;
  const dir = ctx.config.migrationsDir;
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${id}.ts`);
  if (fs.existsSync(file)) throw new CliError(`${file} already exists`);
  fs.writeFileSync(file, migrationTemplate(id, options), { flag: 'wx' });
  print(file);
  emit({ migration: id, file });
  return 0;
}
