/**
 * The worker's allow-list of containers (COSMOS_RUNBOOK_ALLOWED_CONTAINERS): whoever can start workflows on the task
 * queue can name any `database`/`container` in the input (or start `rollbackRunbook` directly with any target), so a
 * worker that serves one application may restrict what its activities touch to that application's containers.
 * Patterns are `database/container`, `*` matching any run of characters within the name (`shop/*`, `*-staging/orders`);
 * a comma or whitespace separates them. Unset: every container of the account (the default).
 */

export const ALLOWED_CONTAINERS_SETTING = 'COSMOS_RUNBOOK_ALLOWED_CONTAINERS';

export interface AllowedContainers {
  /** The patterns as written, for messages. */
  patterns: string[];
  allows(database: string, container: string): boolean;
}

const PATTERN = /^[^/\s,*]*(\*[^/\s,*]*)*\/[^/\s,*]*(\*[^/\s,*]*)*$/;

function matcher(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/** Parses the setting; returns the problems (one per bad pattern) instead of throwing. */
export function parseAllowedContainers(text: string): { allowed?: AllowedContainers; problems: string[] } {
  const patterns = text.split(/[\s,]+/).filter(Boolean);
  const problems = patterns
    .filter((p) => !PATTERN.test(p) || p.startsWith('/') || p.endsWith('/'))
    .map((p) => `"${p}" is not database/container (a * may stand for any part of either name)`);
  if (patterns.length === 0) problems.push('no pattern; unset it to allow every container');
  if (problems.length) return { problems };
  const regexps = patterns.map((p) => {
    const [database, container] = p.split('/') as [string, string];
    return { database: matcher(database), container: matcher(container) };
  });
  return {
    allowed: {
      patterns,
      allows: (database, container) => regexps.some((r) => r.database.test(database) && r.container.test(container)),
    },
    problems: [],
  };
}

/** The refusal, naming the container and the setting; undefined when allowed (or when there is no allow-list). */
export function containerRefusal(
  allowed: AllowedContainers | undefined,
  database: string,
  container: string
): string | undefined {
  if (!allowed || allowed.allows(database, container)) return undefined;
  return (
    `container ${database}/${container} is not allowed on this worker: ${ALLOWED_CONTAINERS_SETTING} is ` +
    `"${allowed.patterns.join(',')}"; nothing was read or changed (add the container to the worker's setting to allow it)`
  );
}
