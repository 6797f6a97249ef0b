/**
 * One run per container: a lease document in the control container `deps.control.leaseContainer` of the target's
 * database. Created if absent; taken over only once expired; renewed and released only by its holder, every write
 * conditioned on the ETag read (a concurrent writer gets 412 and we read again).
 *
 * The lease key is `<database>/<container>`; the document id adds the account, made id-safe (Cosmos ids may not hold
 * `/ \ ? #`).
 */
import { ErrorType } from '../../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import type { Container } from '@azure/cosmos';
import type { LeaseInput, LeaseResult } from '../../common/activities';
import { ensureContainer } from '../arm/ensure-container';
import type { ActivityDeps } from '../deps';

interface LeaseDocument {
  id: string;
  key: string;
  holder: string;
  expiresAt: string;
  renewedAt: string;
}

const MAX_RACES = 10;

function statusOf(err: unknown): number | undefined {
  const e = err as { code?: number | string; statusCode?: number };
  return typeof e.code === 'number' ? e.code : e.statusCode;
}

export function leaseDocumentId(account: string, key: string): string {
  return `${account}/${key}`.replace(/[/\\?#]/g, ':');
}

function parseKey(key: string): { database: string; container: string } {
  const [database, container, ...rest] = key.split('/');
  if (!database || !container || rest.length) throw new Error(`lease key "${key}" is not <database>/<container>`);
  return { database, container };
}

export function createLeaseActivities(deps: ActivityDeps) {
  const ensured = new Set<string>();

  /** The lease container, created through ARM when missing (data-plane RBAC may not allow creating containers). */
  async function leaseContainer(database: string): Promise<Container> {
    const name = deps.control.leaseContainer;
    if (!ensured.has(database)) {
      await ensureContainer(deps, { database, container: name }, { partitionKey: '/id' });
      ensured.add(database);
    }
    return deps.cosmos.database(database).container(name);
  }

  async function read(container: Container, id: string): Promise<(LeaseDocument & { _etag: string }) | undefined> {
    const { resource } = await container.item(id, id).read<LeaseDocument & { _etag: string }>();
    return resource ?? undefined;
  }

  function fresh(input: LeaseInput, id: string): LeaseDocument {
    const now = Date.now();
    return {
      id,
      key: input.key,
      holder: input.holder,
      expiresAt: new Date(now + input.ttlSeconds * 1000).toISOString(),
      renewedAt: new Date(now).toISOString(),
    };
  }

  /** Writes our lease over `current` only if it is still what we read; false when someone else wrote meanwhile. */
  async function replace(container: Container, current: { _etag: string }, next: LeaseDocument): Promise<boolean> {
    try {
      await container
        .item(next.id, next.id)
        .replace(next, { accessCondition: { type: 'IfMatch', condition: current._etag } });
      return true;
    } catch (err) {
      if (statusOf(err) === 412 || statusOf(err) === 404) return false;
      throw err;
    }
  }

  async function acquireLease(input: LeaseInput): Promise<LeaseResult> {
    const { database } = parseKey(input.key);
    const container = await leaseContainer(database);
    const id = leaseDocumentId(deps.account.name, input.key);
    for (let race = 0; race < MAX_RACES; race++) {
      const current = await read(container, id);
      const next = fresh(input, id);
      if (!current) {
        try {
          await container.items.create(next);
          return { acquired: true, holder: input.holder, expiresAt: next.expiresAt };
        } catch (err) {
          if (statusOf(err) === 409) continue; // someone created it first: read theirs
          throw err;
        }
      }
      const expired = Date.parse(current.expiresAt) <= Date.now();
      if (current.holder !== input.holder && !expired) {
        return { acquired: false, holder: current.holder, expiresAt: current.expiresAt };
      }
      if (await replace(container, current, next))
        return { acquired: true, holder: input.holder, expiresAt: next.expiresAt };
    }
    throw ApplicationFailure.retryable(
      `lease ${input.key}: too many concurrent writers, try again`,
      ErrorType.LeaseContention
    );
  }

  async function renewLease(input: LeaseInput): Promise<LeaseResult> {
    const { database } = parseKey(input.key);
    const container = await leaseContainer(database);
    const id = leaseDocumentId(deps.account.name, input.key);
    for (let race = 0; race < MAX_RACES; race++) {
      const current = await read(container, id);
      if (!current) return acquireLease(input); // deleted by hand: take it back
      if (current.holder !== input.holder) {
        return { acquired: false, holder: current.holder, expiresAt: current.expiresAt };
      }
      const next = fresh(input, id);
      if (await replace(container, current, next))
        return { acquired: true, holder: input.holder, expiresAt: next.expiresAt };
    }
    throw ApplicationFailure.retryable(
      `lease ${input.key}: too many concurrent writers, try again`,
      ErrorType.LeaseContention
    );
  }

  async function releaseLease(input: Omit<LeaseInput, 'ttlSeconds'>): Promise<void> {
    const { database } = parseKey(input.key);
    const container = await leaseContainer(database);
    const id = leaseDocumentId(deps.account.name, input.key);
    const current = await read(container, id);
    if (!current || current.holder !== input.holder) return;
    try {
      await container.item(id, id).delete({ accessCondition: { type: 'IfMatch', condition: current._etag } });
    } catch (err) {
      if (statusOf(err) !== 404 && statusOf(err) !== 412) throw err;
    }
  }

  return { acquireLease, renewLease, releaseLease };
}
