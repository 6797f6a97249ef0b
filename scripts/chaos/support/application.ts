/**
 * The application, writing at a steady rate: each write reads a random customer and replaces it with `appWrites + 1`,
 * conditioned on its _etag (a 412 reads again; 429, 503, timeouts and resets are tried again), keeping whatever
 * version it read. `expected` is what each document's `appWrites` must be at the end: a write the run lost shows as
 * a smaller number.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Container } from '@azure/cosmos';
import { statusOf } from '../../../activities/cosmos/requests';
import { customer } from './data';
import { chaosRandom } from './random';

type Doc = { id: string; tenant: string; appWrites?: number; _etag: string };

export interface Application {
  readonly expected: Map<string, number>;
  readonly writes: number;
  stop(): Promise<void>;
}

export function startApplication(container: Container, n: number, writesPerSecond: number): Application {
  const expected = new Map<string, number>();
  let writes = 0;
  let stopped = false;
  const writers = 2;
  const pauseMs = (1000 * writers) / writesPerSecond;

  async function writeOnce(i: number): Promise<void> {
    const { id, tenant } = customer(i);
    for (;;) {
      try {
        const { resource } = await container.item(id, tenant).read<Doc>();
        if (!resource) return; // not there (a restore in progress): nothing to write
        const next = (resource.appWrites ?? 0) + 1;
        await container
          .item(id, tenant)
          .replace(
            { ...resource, appWrites: next },
            { accessCondition: { type: 'IfMatch', condition: resource._etag } }
          );
        expected.set(id, next);
        writes += 1;
        return;
      } catch (err) {
        const status = statusOf(err);
        // 412: someone wrote in between, read again. 404: the container is being restored. Others: transient.
        if (status === 404) return;
        if (stopped) return;
        await sleep(50);
      }
    }
  }

  async function writer(): Promise<void> {
    while (!stopped) {
      const started = Date.now();
      await writeOnce(chaosRandom().below(n));
      await sleep(Math.max(0, pauseMs - (Date.now() - started)));
    }
  }
  const loops = Array.from({ length: writers }, writer);
  return {
    expected,
    get writes() {
      return writes;
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}
