/**
 * The engine's whole-container activities in memory: load, plan, snapshot, verification, and the "knowing it worked"
 * measurements (declared queries, probes), answered from the FakeContainer and the script.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { MigrationInfo, RunbookActivities } from '../../../common/activities';
import type { FakeContainer } from './container';
import type { Lag } from './lag';
import type { FakeScript } from './script';

export type EngineActivities = Pick<
  RunbookActivities,
  | 'loadMigration'
  | 'planMigration'
  | 'takeSnapshot'
  | 'countVersions'
  | 'verifyMigration'
  | 'runDeclaredQueries'
  | 'probeContainer'
  | 'sampleDocumentIds'
>;

/** The module a script runs: split-name style, 1 → 2, reversible. */
export function migrationOf(script: FakeScript): MigrationInfo {
  return {
    id: 'fake-migration',
    description: 'a scripted migration',
    database: 'db',
    container: 'customers',
    checksum: 'f'.repeat(64),
    versionField: 'schemaVersion',
    fromVersion: 1,
    toVersion: 2,
    hasUp: true,
    hasDown: true,
    hasVerify: false,
    migratesDocuments: true,
    relationships: [],
    queries: [],
    ...script.migration,
  };
}

export function createEngineActivities(
  container: FakeContainer,
  script: FakeScript,
  migration: MigrationInfo,
  lag: Lag
): EngineActivities {
  const ruPerWrite = script.ruPerWrite ?? 5;
  const probes = [...(script.probes ?? ['fast'])];
  let baselineTaken = false;
  let verificationsToFail = script.failVerifications ?? 0;
  const roundTrip = (checked: number) => {
    const ids = script.roundTripMismatches ?? [];
    return {
      checked,
      mismatched: ids.length,
      mismatches: ids.map((id) => ({ id, fields: [], error: `down() threw: scripted failure of ${id}` })),
    };
  };
  const candidates = () => container.documents.filter((d) => d.version === migration.fromVersion).length;
  return {
    async loadMigration(input) {
      return {
        ...migration,
        ...(input.database ? { database: input.database } : {}),
        ...(input.container ? { container: input.container } : {}),
      };
    },
    async planMigration(input) {
      const size = Math.min(input.sampleSize, container.documents.length);
      return {
        totalDocuments: container.documents.length,
        documentsToMigrate: candidates(),
        sample: {
          size,
          wouldChange: size,
          wouldSkip: 0,
          failures: [],
          averageDocumentBytes: 200,
          ruPerWrite,
          ruPerRead: 1,
        },
        estimatedSeconds: 1,
        ...(input.ruBudget !== undefined ? { ruBudget: input.ruBudget } : {}),
        ...(migration.hasDown && input.direction === 'up' ? { roundTrip: roundTrip(size) } : {}),
      };
    },
    async takeSnapshot() {
      const now = new Date().toISOString();
      return {
        t0: now,
        documentCount: container.documents.length,
        countsByVersion: container.countsByVersion(),
        changedSinceT0: 0,
        countedAt: now,
      };
    },
    async countVersions() {
      return { countsByVersion: container.countsByVersion(), total: container.documents.length };
    },
    async verifyMigration(input) {
      if (verificationsToFail > 0) {
        verificationsToFail -= 1;
        throw ApplicationFailure.nonRetryable('scripted: the verification query failed', 'ScriptedFailure');
      }
      const target = input.direction === 'up' ? migration.toVersion : migration.fromVersion;
      // A rollback's verification reads what a lagging replica shows (the forward one is not scripted to lag).
      const hidden = input.direction === 'down' ? lag.hiddenInContainer(container) : new Set<string>();
      const seen = container.documents.filter((d) => !hidden.has(d.id));
      const remaining = seen.filter((d) => d.version !== target).length;
      const problems = [...(script.verificationProblems ?? [])];
      if (remaining > (input.allowedRemaining ?? 0)) problems.push(`${remaining} document(s) not at version ${target}`);
      return {
        ok: problems.length === 0,
        problems,
        countsByVersion: container.countsByVersion(seen),
        remaining,
        sampled: Math.min(input.sampleSize, container.documents.length),
        sampleFailures: [],
        relationships: [],
      };
    },
    async runDeclaredQueries({ container: measured }) {
      // Copy mode: the baseline on the source, then the target's measure (worse when the script says so).
      const lost = script.copy?.targetLosesIndex === true && measured !== migration.container;
      return {
        queries: (script.declaredQueries ?? []).map((name) => ({
          name,
          ruCharge: lost ? 40 : 4,
          latencyMs: 1,
          rows: 1,
          indexes: {
            utilizedSingle: lost ? [] : ['/tenant'],
            utilizedComposite: [],
            potentialSingle: lost ? ['/tenant'] : [],
            potentialComposite: [],
          },
          filteredPaths: ['/tenant'],
          maxRuGrowth: 2,
        })),
      };
    },
    async probeContainer() {
      const speed = baselineTaken ? ((probes.length > 1 ? probes.shift() : probes[0]) ?? 'fast') : 'fast';
      baselineTaken = true;
      return {
        at: new Date().toISOString(),
        queries: [],
        pointReads: { count: 5, avgLatencyMs: speed === 'slow' ? 400 : 5, ruCharge: 5 },
        throttled: 0,
        serverErrors: 0,
        requests: 1,
      };
    },
    async sampleDocumentIds({ count }) {
      return container.documents.slice(0, count).map((d) => ({ id: d.id, partitionKey: d.id }));
    },
  };
}
