/**
 * The bench's bookkeeping (bench/results.ts, bench/stats.ts): a partial run (`npm run bench -- --only million`) keeps
 * every figure it did not measure, with its target and raw numbers, and replaces the ones it did; medians and spreads
 * are what docs/performance.md says they are.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { holds, writeResults } from '../../bench/results';
import { median, relativeSpread } from '../../bench/stats';

test('median and relative spread of repetitions', () => {
  expect(median([2434.6, 3208.1, 2164.8])).toBe(2434.6);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(relativeSpread([8, 10, 12])).toBeCloseTo(0.4);
});

test('a partial run keeps the figures it did not measure and replaces those it did', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-results-')), 'latest.json');
  const meta = (figuresRun: string[], at: string) => ({
    at,
    mode: 'full',
    loadAverage: [1],
    benchSeconds: 1,
    figuresRun,
  });
  writeResults(
    [
      { key: 'throughputRatioVsFairPeer', value: 0.8 },
      { key: 'scaleOutRatio2to1', value: 1.8 },
    ],
    { throughput: { peer: [1] }, scaleOut: { runs: [1] } },
    meta(['throughput', 'scaleout'], 'first'),
    file
  );
  const kept = writeResults(
    [
      { key: 'millionRssRatio', value: 1.1 },
      { key: 'throughputRatioVsFairPeer', value: 0.95 },
    ],
    { million: { docs: 1 }, throughput: { peer: [2] } },
    meta(['million', 'throughput'], 'second'),
    file
  );
  expect(kept).toEqual([{ key: 'scaleOutRatio2to1', value: 1.8 }]);
  const written = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  expect({
    throughputRatioVsFairPeer: written.throughputRatioVsFairPeer,
    scaleOutRatio2to1: written.scaleOutRatio2to1,
    millionRssRatio: written.millionRssRatio,
    targets: written.targets,
    raw: written.raw,
    runs: Object.fromEntries(Object.entries(written.runs as Record<string, { at: string }>).map(([k, v]) => [k, v.at])),
  }).toEqual({
    throughputRatioVsFairPeer: 0.95,
    scaleOutRatio2to1: 1.8,
    millionRssRatio: 1.1,
    targets: {
      throughputRatioVsFairPeer: { op: '>=', bound: 0.9, holds: true },
      scaleOutRatio2to1: { op: '>=', bound: 1.7, holds: true },
      millionRssRatio: { op: '<=', bound: 1.2, holds: true },
    },
    raw: { throughput: { peer: [2] }, scaleOut: { runs: [1] }, million: { docs: 1 } },
    runs: { throughput: 'second', scaleout: 'first', million: 'second' },
  });
  expect(holds({ key: 'lowShareMax1sRatio', value: 1.73 })).toBe(false);
  expect(holds({ key: 'appP99LatencyRatio', value: 6.8 })).toBeUndefined();
});
