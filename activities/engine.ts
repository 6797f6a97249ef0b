/**
 * The migration engine's activities: the part of RunbookActivities that reads and changes data and containers.
 * activities/index.ts composes this factory with the preflight, rollback, lease and hook activities.
 */
import type {
  ContainerExport,
  ContainerRef,
  CatchUpInput,
  CatchUpResult,
  ContainerStepsInput,
  ContainerStepsResult,
  DeclaredQueriesInput,
  DeclaredQueriesResult,
  DocumentKey,
  HistoryRecord,
  LoadMigrationInput,
  MigrateRangeInput,
  MigrateRangeResult,
  MigrationInfo,
  MigrationPlan,
  PlanInput,
  PreimagesContainerResult,
  ProbeInput,
  ProbeResult,
  RevertInput,
  RevertResult,
  RunbookActivities,
  SampleIdsInput,
  Snapshot,
  VersionCounts,
  VerificationReport,
  VerifyInput,
} from '../common/activities';
import type { CopyTarget, DeclaredQuery } from '../common/migration';
import { applyContainerSteps } from './arm/container-steps';
import { exportContainer } from './arm/export';
import { probeContainer, runDeclaredQueries, sampleDocumentIds } from './cosmos/declared-queries';
import { listFeedRanges } from './cosmos/feed-ranges';
import { recordHistory } from './cosmos/history';
import { waitForIndexTransformation } from './cosmos/index-progress';
import { catchUpRange, migrateRange } from './cosmos/migrate-range';
import { planMigration } from './cosmos/plan';
import { ensurePreimagesContainer } from './cosmos/preimages';
import { revertFromPreimages } from './cosmos/revert';
import { takeSnapshot } from './cosmos/snapshot';
import { countByVersion } from './cosmos/counts';
import { settledCount } from './cosmos/settled-count';
import { invalid, resolveTarget } from './cosmos/target';
import { verifyMigration } from './cosmos/verify';
import type { ActivityDeps } from './deps';

export type EngineActivities = Pick<
  RunbookActivities,
  | 'loadMigration'
  | 'planMigration'
  | 'listFeedRanges'
  | 'takeSnapshot'
  | 'countVersions'
  | 'migrateRange'
  | 'catchUpRange'
  | 'ensurePreimagesContainer'
  | 'revertFromPreimages'
  | 'applyContainerSteps'
  | 'waitForIndexTransformation'
  | 'verifyMigration'
  | 'recordHistory'
  | 'exportContainer'
  | 'runDeclaredQueries'
  | 'probeContainer'
  | 'sampleDocumentIds'
>;

/** What the workflow needs of a module: names, versions, checksum, reversibility. No functions, no documents. */
export function describeMigration(deps: ActivityDeps, input: LoadMigrationInput): MigrationInfo {
  const target = resolveTarget(deps.registry, input);
  const m = target.definition;
  if (m.target !== undefined && input.direction !== 'up') {
    // A copy is undone by its rollback (the target deleted, or the reverse sync), never by a down run over the source.
    throw invalid(
      `migration ${m.id} declares target ${m.target.container} (copy mode, docs/migrations.md "Copy mode"): it runs up only; a copy is undone by its rollback`
    );
  }
  const migratesDocuments = m.up !== undefined || m.down !== undefined;
  return {
    id: m.id,
    description: m.description,
    database: target.database,
    container: target.container,
    checksum: target.loaded.checksum,
    versionField: target.versionField,
    ...(m.fromVersion !== undefined ? { fromVersion: m.fromVersion } : {}),
    ...(m.toVersion !== undefined ? { toVersion: m.toVersion } : {}),
    hasUp: typeof m.up === 'function',
    hasDown: typeof m.down === 'function',
    hasVerify: typeof m.verify === 'function',
    migratesDocuments,
    relationships: (m.relationships ?? []).map((r) => ({ name: r.name, query: r.query })),
    queries: (m.queries ?? []).map((q) => JSON.parse(JSON.stringify(q)) as DeclaredQuery),
    ...(target.steps ? { containerSteps: JSON.parse(JSON.stringify(target.steps)) as typeof target.steps } : {}),
    // Copy mode: the workflow runs the copy's phases (workflows/copy/) instead of the in-place ones.
    ...(m.target ? { target: JSON.parse(JSON.stringify(m.target)) as CopyTarget } : {}),
  };
}

export function createEngineActivities(deps: ActivityDeps): EngineActivities {
  return {
    async loadMigration(input: LoadMigrationInput): Promise<MigrationInfo> {
      return describeMigration(deps, input);
    },
    async planMigration(input: PlanInput): Promise<MigrationPlan> {
      return planMigration(deps, input);
    },
    async listFeedRanges(input: ContainerRef): Promise<string[]> {
      return listFeedRanges(deps.cosmos.database(input.database).container(input.container));
    },
    async takeSnapshot(input: ContainerRef & { versionField: string }): Promise<Snapshot> {
      return takeSnapshot(deps, input);
    },
    async countVersions(
      input: ContainerRef & { versionField: string; settled?: boolean; settledOn?: string }
    ): Promise<VersionCounts> {
      const container = deps.cosmos.database(input.database).container(input.container);
      type Counted = Awaited<ReturnType<typeof countByVersion>>;
      // What must not be missed: the total (a delete on it), or one version's count (the revert's documents left).
      const measure = (c: Counted) => (input.settledOn !== undefined ? (c.counts[input.settledOn] ?? 0) : c.total);
      let highest: Counted | undefined;
      const once = async () => {
        const counted = await countByVersion(container, input.versionField);
        if (!highest || measure(counted) > measure(highest)) highest = counted;
        return measure(counted);
      };
      if (input.settled) await settledCount(once);
      else await once();
      return { countsByVersion: highest!.counts, total: highest!.total };
    },
    async migrateRange(input: MigrateRangeInput): Promise<MigrateRangeResult> {
      return migrateRange(deps, input);
    },
    async catchUpRange(input: CatchUpInput): Promise<CatchUpResult> {
      return catchUpRange(deps, input);
    },
    async ensurePreimagesContainer(input: ContainerRef & { throughput?: number }): Promise<PreimagesContainerResult> {
      return ensurePreimagesContainer(deps, input);
    },
    async revertFromPreimages(input: RevertInput): Promise<RevertResult> {
      return revertFromPreimages(deps, input);
    },
    async applyContainerSteps(input: ContainerStepsInput): Promise<ContainerStepsResult> {
      return applyContainerSteps(deps, input);
    },
    async waitForIndexTransformation(input: ContainerRef): Promise<{ progress: number }> {
      return waitForIndexTransformation(deps, input);
    },
    async verifyMigration(input: VerifyInput): Promise<VerificationReport> {
      return verifyMigration(deps, input);
    },
    async recordHistory(record: HistoryRecord): Promise<void> {
      return recordHistory(deps, record);
    },
    async exportContainer(input: ContainerRef & { scripts?: boolean }): Promise<ContainerExport | null> {
      const { scripts, ...ref } = input;
      return exportContainer(deps, ref, { scripts: scripts === true });
    },
    async runDeclaredQueries(input: DeclaredQueriesInput): Promise<DeclaredQueriesResult> {
      return runDeclaredQueries(deps, input);
    },
    async probeContainer(input: ProbeInput): Promise<ProbeResult> {
      return probeContainer(deps, input);
    },
    async sampleDocumentIds(input: SampleIdsInput): Promise<DocumentKey[]> {
      return sampleDocumentIds(deps, input);
    },
  };
}

export { readHistory } from './cosmos/history';
