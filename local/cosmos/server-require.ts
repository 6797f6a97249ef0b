/** Requires modules the way @vercel/cosmosdb-server itself resolves them, so patches reach the very instances it uses. */
import { createRequire } from 'node:module';

const requireFromServer = createRequire(require.resolve('@vercel/cosmosdb-server/package.json'));

export const serverRequire = <T>(request: string): T => requireFromServer(request) as T;
