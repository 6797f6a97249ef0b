/**
 * Determinism: every recorded history in test/histories replays against today's workflow code; a history whose
 * workflow type no longer matches fails. The recorded histories carry no document content (ids and counts only).
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, ReplayError, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { MARKER } from './harness';
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
  bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error },
  });
}, 120_000);

test('the recorded histories include the happy path and a rollback by restore', () => {
  expect(files).toEqual(expect.arrayContaining(['happy-path.json', 'rollback-restore.json']));
});

test.each(files)('%s replays against the current workflow code', async (file) => {
  const text = fs.readFileSync(path.join(dir, file), 'utf8');
  expect(text).not.toContain(MARKER);
  const history = JSON.parse(text) as HistoryJson;
  // The rollback child's id derives from the parent's: replay under the recorded workflow id.
  const workflowId = history.events[0]?.workflowExecutionStartedEventAttributes?.workflowId;
  await Worker.runReplayHistory({ workflowBundle: bundle, replayName: file }, history, workflowId);
});

test('a history of another workflow type fails to replay', async () => {
  const history = readHistory('happy-path.json');
  history.events[0]!.workflowExecutionStartedEventAttributes!.workflowType.name = 'rollbackRunbook';
  await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history)).rejects.toThrow(ReplayError);
});

test('a history whose steps differ from the code is a determinism violation', async () => {
  const history = readHistory('happy-path.json');
  const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes);
  scheduled!.activityTaskScheduledEventAttributes!.activityType.name = 'dropContainer';
  await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history)).rejects.toThrow(DeterminismViolationError);
});
