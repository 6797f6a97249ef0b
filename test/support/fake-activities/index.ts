/**
 * The fake-activities kit: an in-memory RunbookActivities (typed against the real interface, so a field the real
 * activities gain or change shows here at compile time) whose behaviour a test scripts (script.ts). Phase-machine
 * tests run the real workflow code against it on a Temporal worker (test/support/fake-runbook.ts); what a test then
 * asserts is the workflow's behaviour (phases, gates, signals, controls, reports, the calls it made), not Cosmos.
 */
import type { RunbookActivities } from '../../../common/activities';
import { createInputActivities } from '../../../activities/input';
import { createArmActivities } from './arm';
import { CallLog, logged } from './calls';
import { createCopyActivities, type FakeCopyTarget } from './copy';
import { FakeContainer } from './container';
import { createEngineActivities, migrationOf } from './engine';
import { createHookActivities, type HookRecords } from './hooks';
import { RangeGate } from './gate';
import { Lag } from './lag';
import { createRangeActivities, type RuMeter } from './ranges';
import { createRecordActivities, type Records } from './records';
import type { FakeScript } from './script';

export type { FakeScript, RangeFault } from './script';
export type { FakeDocument } from './container';

export interface FakeKit {
  activities: RunbookActivities;
  /** The container's documents and feed ranges as the activities left them. */
  container: FakeContainer;
  calls: CallLog;
  /** Hold every range between pages (to catch a run migrating), and release it. */
  ranges: RangeGate;
  /** RU the container charged in all (the workflow's counters must add up to it). */
  ru: RuMeter;
  records: Records & HookRecords;
  migration: ReturnType<typeof migrationOf>;
  /** The container was deleted (a rollback by restore) and not restored since. */
  deleted(): boolean;
  /** Copy mode: the target's copies, and whether it exists. */
  copyTarget: FakeCopyTarget;
}

/** `documents` spread evenly over `ranges` (ids in hash order: d-0000 is in the first range), or as scripted. */
function perRange({ documents = 40, ranges = 2, documentsPerRange }: FakeScript): number[] {
  if (documentsPerRange) return documentsPerRange;
  return Array.from(
    { length: ranges },
    (_, i) => Math.floor(((i + 1) * documents) / ranges) - Math.floor((i * documents) / ranges)
  );
}

export function createFakeActivities(script: FakeScript = {}): FakeKit {
  const migration = migrationOf(script);
  const container = new FakeContainer(perRange(script), migration.fromVersion);
  const calls = new CallLog();
  const gate = new RangeGate();
  const ru: RuMeter = { charged: 0 };
  const lag = new Lag(script);
  const records: Records & HookRecords = { leases: new Map(), history: [], notified: [], ran: [] };
  const { deleted, ...arm } = createArmActivities(container, script, migration.fromVersion);
  const { copyTarget, ...copy } = createCopyActivities(container, script);
  const activities: RunbookActivities = {
    ...createInputActivities(),
    ...createEngineActivities(container, script, migration, lag),
    ...createRangeActivities(container, script, gate, ru, lag, migration.fromVersion, migration.toVersion),
    ...arm,
    ...createRecordActivities(script, records),
    ...createHookActivities(script, records),
    ...copy,
  };
  return {
    activities: logged(activities, calls),
    container,
    calls,
    ranges: gate,
    ru,
    records,
    migration,
    deleted,
    copyTarget,
  };
}
