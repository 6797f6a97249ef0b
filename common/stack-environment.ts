/**
 * The environment the worker and the `migrate` CLI are configured from: the process environment over
 * `.local/stack.env` (or `$STACK_DIR/stack.env`) when the embedded stack wrote one. One rule for both, so a user
 * who ran `npm run stack -- up` needs no setup for either. (It reads one file; everything else here is pure.)
 */
import fs from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';

/** The folder of the embedded stack: STACK_DIR, or `.local/` in the project (or the given root). */
export function stackDir(env: NodeJS.ProcessEnv, root: string): string {
  return path.resolve(env.STACK_DIR || path.join(root, '.local'));
}

/** process.env over the stack's `stack.env`; `file` names the stack.env used, if any. */
export function environmentWithStack(
  env: NodeJS.ProcessEnv,
  root: string
): { vars: Record<string, string>; file?: string } {
  const own = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].trim() !== '')
  );
  const file = path.join(stackDir(env, root), 'stack.env');
  if (!fs.existsSync(file)) return { vars: own };
  const fromFile = dotenv.parse(fs.readFileSync(file, 'utf8'));
  const vars = { ...fromFile, ...own };
  // The stack's endpoints come with the stack's certificate: a NODE_EXTRA_CA_CERTS of the shell (often the system
  // bundle) must not replace it unless the shell also points COSMOS_ENDPOINT elsewhere.
  if (!own.COSMOS_ENDPOINT && fromFile.NODE_EXTRA_CA_CERTS) vars.NODE_EXTRA_CA_CERTS = fromFile.NODE_EXTRA_CA_CERTS;
  return { vars, file };
}
