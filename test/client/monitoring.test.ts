/** The CLI's `status` draws the monitoring series: latency as a sparkline, bad intervals marked. Pure. */
import { formatMonitoring } from '../../client/format';

test('the monitoring window is drawn as a sparkline with the bad intervals marked and the last reason', () => {
  const at = '2026-12-01T00:00:00.000Z';
  const lines = formatMonitoring([
    { at, bad: false, latencyMs: 10 },
    { at, bad: false, latencyMs: 12 },
    { at, bad: true, latencyMs: 400, reason: 'point reads 400 ms (3× baseline 10 ms)' },
  ]);
  expect(lines[0]).toBe('monitoring  ▁▁█  latency, max 400 ms over 3 interval(s), 1 bad');
  expect(lines[1]).toBe('              !');
  expect(lines[2]).toBe('            last bad: point reads 400 ms (3× baseline 10 ms)');
});
