/**
 * Determinism: every recorded history in test/histories replays against today's workflow code; a history whose
 * workflow type no longer matches fails. The recorded histories carry no document content (ids and counts only).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ReplayError, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { runbookWorkflowBundle } from '../support/workflow-bundle';
import { DeterminismViolationError } from '@temporalio/workflow';
import { PATCHES } from '../../workflows/patches';
import { MARKER } from './harness';
import { decodedHistory, decodedPayloads } from '../support/payloads';
import { installQuietRuntime } from '../support/temporal';

const dir = path.join(__dirname, '..', 'histories');

/** The parts of a recorded history (proto3 JSON) these tests read or change. */
interface HistoryJson {
  events: {
    workflowExecutionStartedEventAttributes?: { workflowId?: string; workflowType: { name: string } };
    activityTaskScheduledEventAttributes?: { activityType: { name: string } };
  }[];
}
const readHistory = (file: string) => JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as HistoryJson;
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  installQuietRuntime();
  bundle = await runbookWorkflowBundle();
}, 120_000);

test('the recorded histories cover the happy path, each rollback strategy (parent and child), an interrupted migration, a restore drill, live controls, a budget following the work, a catch-up until cutover, a copy (repartition) cut over then rolled back (parent and child), and a copy’s rollback before the cutover asking before it deletes a target the application wrote to (child), and a latest-version copy’s rollback after the cutover finding the application’s deletes (child)', () => {
  expect(files).toEqual(
    expect.arrayContaining([
      'happy-path-phases.json',
      'rollback-restore-proved.json',
      'rollback-restore-child.json',
      'rollback-preimages.json',
      'rollback-preimages-child.json',
      'rollback-interrupt-phases.json',
      'restore-drill.json',
      'live-controls.json',
      'budget-follows-work.json',
      'catch-up-cutover.json',
      'copy-mode-cutover-rollback.json',
      'copy-mode-rollback-child.json',
      'copy-rollback-target-gate-child.json',
      'copy-latest-version-rollback-child.json',
    ])
  );
});

/** Decoded payloads of a recorded history's markers, by marker name. */
function markers(file: string): Map<string, unknown[]> {
  const history = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as {
    events: { markerRecordedEventAttributes?: { markerName: string; details?: Record<string, unknown> } }[];
  };
  const found = new Map<string, unknown[]>();
  for (const e of history.events) {
    const m = e.markerRecordedEventAttributes;
    if (!m) continue;
    const payloads = Object.values(m.details ?? {}).flatMap(
      (d) => (d as { payloads?: { data?: string }[] }).payloads ?? []
    );
    const decoded = payloads.map((p): unknown =>
      p.data ? JSON.parse(Buffer.from(p.data, 'base64').toString('utf8')) : null
    );
    found.set(m.markerName, [...(found.get(m.markerName) ?? []), ...decoded]);
  }
  return found;
}

test('a new run resolves its input once, in history: the defaults it ran with are recorded, not re-derived on replay', () => {
  const recorded = markers('happy-path-phases.json');
  // The local activity's marker carries the resolved options.
  const resolved = JSON.stringify(recorded.get('core_local_activity') ?? []);
  expect(resolved).toContain('"minimumBackupTier":"Continuous30Days"');
  expect(resolved).toContain('"leaseTtlSeconds"');
});

test.each(files)('%s carries no patch marker that workflows/patches.ts does not register', (file) => {
  const registered = Object.keys(PATCHES);
  const ids = (markers(file).get('core_patch') ?? []).filter((v): v is string => typeof v === 'string');
  expect(ids.filter((id) => !registered.includes(id))).toEqual([]);
});

test.each(files)('%s replays against the current workflow code', async (file) => {
  const text = fs.readFileSync(path.join(dir, file), 'utf8');
  const history = JSON.parse(text) as HistoryJson;
  // Payloads decoded: activity inputs and results, signals, markers, the result. Ids and counts only.
  const payloads = decodedPayloads(history);
  // (the runbook's histories carry counters, the drill's its record)
  expect(payloads.join('\n')).toMatch(/"scanned"|"docsPerSecond"/);
  expect(decodedHistory(history)).not.toContain(MARKER);
  // The rollback child's id derives from the parent's: replay under the recorded workflow id.
  const workflowId = history.events[0]?.workflowExecutionStartedEventAttributes?.workflowId;
  await Worker.runReplayHistory({ workflowBundle: bundle, replayName: file }, history, workflowId);
});

test('the payload scan finds what a raw scan of the JSON misses', () => {
  const leaked = {
    events: [
      {
        result: {
          payloads: [
            {
              metadata: { encoding: 'anNvbi9wbGFpbg==' },
              data: Buffer.from(JSON.stringify({ note: MARKER })).toString('base64'),
            },
          ],
        },
      },
    ],
  };
  expect(JSON.stringify(leaked)).not.toContain(MARKER);
  expect(decodedHistory(leaked)).toContain(MARKER);
});

test('a history of another workflow type fails to replay', async () => {
  const history = readHistory('happy-path-phases.json');
  history.events[0]!.workflowExecutionStartedEventAttributes!.workflowType.name = 'rollbackRunbook';
  await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history)).rejects.toThrow(ReplayError);
});

test('a history whose steps differ from the code is a determinism violation', async () => {
  const history = readHistory('happy-path-phases.json');
  const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes);
  scheduled!.activityTaskScheduledEventAttributes!.activityType.name = 'dropContainer';
  await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history)).rejects.toThrow(DeterminismViolationError);
});
