/**
 * Physical partitions: each container's partition key ranges, as Azure lays them out. A container has
 * ⌈provisioned RU/s ÷ 10 000⌉ ranges (at least 1; unprovisioned containers have 1), each owning a contiguous slice
 * of the effective-partition-key hash space (epk.ts), evenly split. Raising the throughput past P × 10 000 RU/s
 * splits ranges in the background; a split replaces a range by two children with new ids and half its hash range
 * each, and the old id is gone (requests naming it get 410/1002, so the SDK refreshes its routing map).
 *
 * The layout is in memory: after a restart every container starts again from its throughput.
 */
import { boundaryEpk, hashSpaceEnd, versionOf, type PartitionKeyVersion } from './epk';
import type { PartitionLayout } from './types';

/** Azure: one physical partition serves up to 10 000 RU/s. */
export const RU_PER_PARTITION = 10_000;
/** How long a split triggered by a throughput raise takes here. */
export const SPLIT_DELAY_MS = 500;

export const partitionsFor = (ruPerSecond: number) => Math.max(1, Math.ceil(ruPerSecond / RU_PER_PARTITION));

export interface PartitionRange {
  id: string;
  /** Start of the range in the hash space (epk.ts hashSpaceEnd). */
  lo: bigint;
  hi: bigint;
  minInclusive: string;
  maxExclusive: string;
  parents: string[];
}

export interface ContainerPartitions {
  database: string;
  container: string;
  version: PartitionKeyVersion;
  definition: Record<string, unknown>;
  /** Live ranges, ordered by minInclusive. */
  ranges: PartitionRange[];
  nextId: number;
  /** Ids that existed and were split or replaced. */
  gone: Set<string>;
}

export interface PartitionTableDeps {
  /** The container's definition (partitionKey, _rid, _self), or null when it does not exist. */
  readDefinition(database: string, container: string): Promise<Record<string, unknown> | null>;
  /** Provisioned RU/s of the container, if any. */
  provisioned(database: string, container: string): number | undefined;
  /** Called when a container's ranges changed (the RU model resets its per-partition budgets). */
  layoutChanged(database: string, container: string): void;
}

const key = (database: string, container: string) => `${database}\u0000${container}`;

export class PartitionTable {
  private readonly containers = new Map<string, ContainerPartitions>();
  private readonly loading = new Map<string, Promise<ContainerPartitions | null>>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly deps: PartitionTableDeps) {}

  /** The container's partitions, laid out on first use from its throughput; null if the container does not exist. */
  async get(database: string, container: string): Promise<ContainerPartitions | null> {
    const k = key(database, container);
    const known = this.containers.get(k);
    if (known) return known;
    let loading = this.loading.get(k);
    if (!loading) {
      loading = this.load(database, container).finally(() => this.loading.delete(k));
      this.loading.set(k, loading);
    }
    return loading;
  }

  private async load(database: string, container: string): Promise<ContainerPartitions | null> {
    const definition = await this.deps.readDefinition(database, container);
    if (!definition) return null;
    const k = key(database, container);
    const existing = this.containers.get(k);
    if (existing) return existing;
    const ru = this.deps.provisioned(database, container);
    const state: ContainerPartitions = {
      database,
      container,
      version: versionOf(definition),
      definition,
      ranges: [],
      nextId: 0,
      gone: new Set(),
    };
    state.ranges = evenRanges(state, ru === undefined ? 1 : partitionsFor(ru));
    this.containers.set(k, state);
    return state;
  }

  /** The container was created, replaced or deleted: its layout is made again on next use. */
  forget(database: string, container: string): void {
    this.containers.delete(key(database, container));
    this.deps.layoutChanged(database, container);
  }

  forgetDatabase(database: string): void {
    for (const state of [...this.containers.values()]) {
      if (state.database === database) this.forget(database, state.container);
    }
  }

  /** Replaces the layout by `count` even ranges with new ids (for tests); every old id is gone. */
  async setCount(database: string, container: string, count: number): Promise<PartitionLayout> {
    if (!Number.isInteger(count) || count < 1 || count > 1024) {
      throw new Error(`partition count must be an integer from 1 to 1024, got ${String(count)}`);
    }
    const state = await this.require(database, container);
    for (const r of state.ranges) state.gone.add(r.id);
    state.ranges = evenRanges(state, count);
    this.deps.layoutChanged(database, container);
    return layoutOf(state);
  }

  /** Splits one live range into two children (new ids, half the hash range each). */
  async split(database: string, container: string, rangeId: string): Promise<PartitionLayout> {
    const state = await this.require(database, container);
    const index = state.ranges.findIndex((r) => r.id === rangeId);
    if (index < 0) {
      throw new Error(
        `container "${database}/${container}" has no live partition key range "${rangeId}" (live: ${state.ranges.map((r) => r.id).join(', ')})`
      );
    }
    splitAt(state, index);
    this.deps.layoutChanged(database, container);
    return layoutOf(state);
  }

  async layout(database: string, container: string): Promise<PartitionLayout> {
    return layoutOf(await this.require(database, container));
  }

  /**
   * Provisioned throughput changed. Before the container was first used, its layout will simply follow; after,
   * raising past P × 10 000 RU/s splits ranges in the background (largest first) until there are enough.
   */
  throughputChanged(database: string, container: string, ruPerSecond: number): void {
    const k = key(database, container);
    const state = this.containers.get(k);
    if (!state || partitionsFor(ruPerSecond) <= state.ranges.length) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const current = this.containers.get(k);
      const target = partitionsFor(this.deps.provisioned(database, container) ?? 0);
      if (current === state && target > state.ranges.length) {
        while (state.ranges.length < target) {
          let widest = 0;
          state.ranges.forEach((r, i) => {
            const w = state.ranges[widest]!;
            if (r.hi - r.lo > w.hi - w.lo) widest = i;
          });
          splitAt(state, widest);
        }
        this.deps.layoutChanged(database, container);
      }
    }, SPLIT_DELAY_MS);
    timer.unref();
    this.timers.add(timer);
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private async require(database: string, container: string): Promise<ContainerPartitions> {
    const state = await this.get(database, container);
    if (!state) throw new Error(`container "${database}/${container}" does not exist`);
    return state;
  }
}

function makeRange(state: ContainerPartitions, lo: bigint, hi: bigint, parents: string[]): PartitionRange {
  return {
    id: String(state.nextId++),
    lo,
    hi,
    minInclusive: boundaryEpk(lo, state.version),
    maxExclusive: boundaryEpk(hi, state.version),
    parents,
  };
}

function evenRanges(state: ContainerPartitions, count: number): PartitionRange[] {
  const end = hashSpaceEnd(state.version);
  const n = BigInt(count);
  return Array.from({ length: count }, (_, i) =>
    makeRange(state, (end * BigInt(i)) / n, (end * BigInt(i + 1)) / n, [])
  );
}

function splitAt(state: ContainerPartitions, index: number): void {
  const parent = state.ranges[index]!;
  if (parent.hi - parent.lo < 2n) throw new Error(`partition key range ${parent.id} is too small to split`);
  const mid = parent.lo + (parent.hi - parent.lo) / 2n;
  const parents = [...parent.parents, parent.id];
  const children = [makeRange(state, parent.lo, mid, parents), makeRange(state, mid, parent.hi, parents)];
  state.ranges.splice(index, 1, ...children);
  state.gone.add(parent.id);
}

export function layoutOf(state: ContainerPartitions): PartitionLayout {
  return {
    ranges: state.ranges.map(({ id, minInclusive, maxExclusive, parents }) => ({
      id,
      minInclusive,
      maxExclusive,
      parents: [...parents],
    })),
  };
}

/** The live range holding an EPK. */
export function rangeOfEpk(state: ContainerPartitions, epk: string): PartitionRange {
  let found = state.ranges[0]!;
  for (const r of state.ranges) {
    if (epk >= r.minInclusive) found = r;
    else break;
  }
  return found;
}

/** The pkranges feed's resources, as Azure's gateway returns them. */
export function partitionKeyRangeResources(state: ContainerPartitions): Record<string, unknown>[] {
  const { _rid: rid, _self: self } = state.definition;
  const collRid = typeof rid === 'string' ? rid : '';
  const collSelf = typeof self === 'string' ? self : '';
  const ts = Math.floor(Date.now() / 1000);
  return state.ranges.map((r) => ({
    id: r.id,
    _rid: `${collRid}pk${r.id}`,
    _self: `${collSelf}pkranges/${collRid}pk${r.id}/`,
    _etag: `"${collRid}-${r.id}"`,
    _ts: ts,
    minInclusive: r.minInclusive,
    maxExclusive: r.maxExclusive,
    ridPrefix: Number(r.id),
    throughputFraction: 1 / state.ranges.length,
    status: 'online',
    parents: [...r.parents],
    ownedArchivalPKRangeIds: [],
  }));
}
