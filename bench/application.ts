/**
 * The application the budget figures run beside the migration: loops that read a random tenant's documents (a
 * query scoped to its partition key) and replace one of them (`ifMatch`; a 412 means the migration replaced it
 * first), High priority (no priority header, the SDK's default), paced to a target RU/s from the charges Cosmos
 * answers with (x-ms-request-charge), so that it takes a known share of the provisioned throughput. The pacing
 * never catches up on time it fell behind (at most PACING_SLACK_MS): an application that could not keep its rate
 * for a while does not then burst. Every request's latency, as the application sees it (the SDK's own 429 retries
 * included, as in any application), is counted under the current label.
 */
import type { Container } from '@azure/cosmos';
import type { Doc } from './data';

export interface AppOptions {
  /** Documents c-0000000 ..< docs exist. */
  docs: number;
  /** The RU/s the application takes (its requests are paced to it). */
  ruPerSecond: number;
  /** Read-replace loops at once. */
  loops?: number;
}

export interface AppCounts {
  requests: number;
  ru: number;
  seconds: number;
  ruPerSecond: number;
  /** Requests that failed after the SDK's retries (a 429 it gave up on, a timeout); 412s are not failures. */
  failed: number;
  conflicts: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const PACING_SLACK_MS = 100;

class Label {
  latencies: number[] = [];
  ru = 0;
  failed = 0;
  conflicts = 0;
  readonly startedAt = Date.now();
  endedAt = Number.NaN;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function counts(label: Label): AppCounts {
  const sorted = [...label.latencies].sort((a, b) => a - b);
  const seconds = ((Number.isFinite(label.endedAt) ? label.endedAt : Date.now()) - label.startedAt) / 1000;
  return {
    requests: sorted.length,
    ru: Math.round(label.ru),
    seconds: Math.round(seconds * 100) / 100,
    ruPerSecond: Math.round(label.ru / seconds),
    failed: label.failed,
    conflicts: label.conflicts,
    p50Ms: Math.round(percentile(sorted, 50) * 100) / 100,
    p99Ms: Math.round(percentile(sorted, 99) * 100) / 100,
    maxMs: Math.round((sorted[sorted.length - 1] ?? Number.NaN) * 100) / 100,
  };
}

export function application(container: Container, o: AppOptions) {
  const labels = new Map<string, Label>([['start', new Label()]]);
  let current = labels.get('start')!;
  let stopped = false;
  /** When the next request may be sent: each response's charge moves it on by charge ÷ the rate. */
  let next = Date.now();
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

  const timed = async <T extends { requestCharge?: number }>(send: () => Promise<T>): Promise<T> => {
    const label = current;
    const t = performance.now();
    try {
      const response = await send();
      label.latencies.push(performance.now() - t);
      label.ru += response.requestCharge ?? 0;
      next += ((response.requestCharge ?? 0) / o.ruPerSecond) * 1000;
      return response;
    } catch (err) {
      label.latencies.push(performance.now() - t);
      const code = (err as { code?: unknown }).code;
      if (code === 412) label.conflicts++;
      else label.failed++;
      label.ru += 1;
      next += (1 / o.ruPerSecond) * 1000;
      throw err;
    }
  };

  const loop = async () => {
    while (!stopped) {
      next = Math.max(next, Date.now() - PACING_SLACK_MS);
      const ahead = next - Date.now();
      if (ahead > 0) await sleep(ahead);
      const tenant = `t-${Math.floor(Math.random() * Math.min(1000, o.docs))}`;
      try {
        const { resources } = await timed(() =>
          container.items
            .query<Doc>(
              { query: 'SELECT * FROM c WHERE c.tenantId = @t', parameters: [{ name: '@t', value: tenant }] },
              { partitionKey: tenant }
            )
            .fetchAll()
        );
        const resource = resources[Math.floor(Math.random() * resources.length)];
        if (!resource) continue;
        await timed(() =>
          container
            .item(resource.id, resource.tenantId)
            .replace(
              { ...resource, visits: ((resource.visits as number) ?? 0) + 1 },
              { accessCondition: { type: 'IfMatch', condition: resource._etag as string } }
            )
        );
      } catch {
        // counted by `timed`
      }
    }
  };
  const running = Array.from({ length: o.loops ?? 96 }, loop);

  return {
    mark(name: string) {
      current.endedAt = Date.now();
      current = new Label();
      labels.set(name, current);
    },
    async stop(): Promise<Record<string, AppCounts>> {
      stopped = true;
      current.endedAt = Date.now();
      await Promise.all(running);
      return Object.fromEntries([...labels].map(([name, label]) => [name, counts(label)]));
    },
  };
}
