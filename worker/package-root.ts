/**
 * The package's root folder (where package.json is) and its version, the same from the TypeScript sources
 * (`tsx client/cli.ts`) as from the compiled JavaScript (`dist/client/cli.js`, one folder deeper), so nothing
 * depends on how many folders lie between a file and the root.
 */
import fs from 'node:fs';
import path from 'node:path';

const NAME = 'cosmos-runbook';

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file) && (JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string }).name === NAME) {
      return dir;
    }
    if (path.dirname(dir) === dir) throw new Error(`no package.json of ${NAME} above ${from}`);
  }
}

export const PACKAGE_ROOT = findRoot(__dirname);

export const PACKAGE_VERSION = (
  JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
