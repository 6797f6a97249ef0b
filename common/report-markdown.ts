/** The run's report in markdown: a pure function of the report, for a ticket, a chat message or the CLI. */
import { renderQueryBaselinesMarkdown } from './query-baselines';
import type { RevertConflict } from './activities';
import type { CopyOutcome } from './copy';
import type { RunbookReport } from './report';

const STATUS_WORDS: Record<RunbookReport['status'], string> = {
  completed: 'Completed and verified',
  'rolled-back': 'Rolled back',
  aborted: 'Aborted: nothing changed',
  failed: 'Failed',
  'rollback-failed': 'ROLLBACK FAILED: operator action needed',
  'dry-run': 'Dry run: nothing written',
};

/** Why the revert left a document as the application wrote it. */
const CONFLICT_REASONS: Record<RevertConflict['reason'], string> = {
  changed: 'changed by the application since the migration wrote it',
  recreated: 'deleted and created again under the same id',
  created: 'created by the application at the new version',
};

export function renderReportMarkdown(report: Omit<RunbookReport, 'markdown'>): string {
  const c = report.counters;
  const out: string[] = [
    `# Migration ${report.migrationId} (${report.direction}): ${STATUS_WORDS[report.status]}`,
    '',
    report.description,
    '',
    '| | |',
    '| --- | --- |',
    `| Container | \`${report.database}/${report.container}\` |`,
    `| Workflow | \`${report.workflowId}\` |`,
    `| Checksum | \`${report.checksum.slice(0, 12)}\` |`,
    `| Started | ${report.startedAt} |`,
    `| Finished | ${report.finishedAt} |`,
  ];
  if (report.approvedBy) out.push(`| Approved by | ${report.approvedBy} |`);
  if (report.reason) out.push(`| Reason | ${report.reason} |`);
  if (report.snapshot)
    out.push(`| Restore point (T0) | ${report.snapshot.t0} (${report.snapshot.documentCount} documents) |`);
  out.push(
    '',
    '## Documents',
    '',
    '| scanned | migrated | skipped | failed | conflicts | RU |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${c.scanned} | ${c.migrated} | ${c.skipped} | ${c.failed} | ${c.conflicts} | ${Math.round(c.ruConsumed)} |`
  );
  if (report.plan) {
    out.push(
      '',
      `Plan: ${report.plan.documentsToMigrate} of ${report.plan.totalDocuments} documents to migrate, ` +
        `estimated ${report.plan.estimatedSeconds}s${report.plan.ruBudget ? ` at ${report.plan.ruBudget} RU/s` : ''}.`
    );
  }
  const schema = report.plan?.schema;
  if (schema && schema.added.length + schema.removed.length + schema.changed.length > 0) {
    // The manual runbook's "update schema documentation": field names from the plan's sample before and after the transform.
    out.push('', '## Schema changes', '');
    if (schema.added.length) out.push(`- added: ${schema.added.map((f) => `\`${f}\``).join(', ')}`);
    if (schema.removed.length) out.push(`- removed: ${schema.removed.map((f) => `\`${f}\``).join(', ')}`);
    if (schema.changed.length) out.push(`- changed: ${schema.changed.map((f) => `\`${f}\``).join(', ')}`);
  }
  if (report.queries) {
    const { before, after } = report.queries;
    out.push(
      '',
      '## Declared queries',
      '',
      after ? renderQueryBaselinesMarkdown(before, after) : `Baseline of ${before.length} queries (not run again).`
    );
  }
  if (report.monitoring?.length) {
    const bad = report.monitoring.filter((p) => p.bad);
    out.push(
      '',
      '## Monitoring',
      '',
      `${report.monitoring.length} interval(s) probed, ${bad.length} bad.`,
      ...bad.slice(-10).map((p) => `- ${p.at}: ${p.reason ?? 'bad'}`)
    );
  }
  if (report.verification) {
    const v = report.verification;
    out.push('', '## Verification', '', v.ok ? 'All checks passed.' : 'Problems:', ...v.problems.map((p) => `- ${p}`));
    out.push(`- ${v.sampled} documents sampled, ${v.remaining} not at the target version`);
    for (const r of v.relationships) out.push(`- relationship \`${r.name}\`: ${r.rows} rows`);
  }
  if (report.copy) out.push('', ...copyMarkdown(report.copy));
  if (report.rollbackPlan) out.push('', `**Rollback plan:** ${report.rollbackPlan}`);
  if (report.rollback) {
    const r = report.rollback;
    out.push('', '## Rollback', '', `By ${r.mode}: ${r.reason}. ${r.ok ? 'Verified.' : 'NOT verified:'}`);
    out.push(...r.problems.map((p) => `- ${p}`));
    if (r.revert) {
      const v = r.revert;
      out.push(
        `- ${v.reverted} reverted to their pre-image, ${v.down} given back by down(), ${v.unchanged} already as before, ${v.conflicts} left as the application wrote them` +
          (r.conflictsAcceptedBy !== undefined ? ` (accepted by ${r.conflictsAcceptedBy})` : '')
      );
      for (const c of r.conflicts ?? []) {
        out.push(
          `  - left: \`${c.id}\` (${JSON.stringify(c.partitionKey)}): ${CONFLICT_REASONS[c.reason]}; left as the application wrote it`
        );
      }
    }
    if (r.keptContainer) {
      out.push(
        `- the container the migration created was KEPT with its ${r.keptContainer.documents} document(s): ${r.keptContainer.reason}`
      );
    }
    if (r.discardedWrites !== undefined) {
      out.push(
        `- ${r.discardedWrites} document(s) written at or after T0 (the migration's own writes included) were discarded by the in-place restore`
      );
    }
    if (r.restoredDeletes !== undefined) {
      out.push(`- ${r.restoredDeletes} document(s) deleted since T0 were brought back by the in-place restore`);
    }
  }
  out.push(
    '',
    '## Timeline',
    '',
    ...report.timeline.map((t) => `- ${t.at} **${t.phase}**${t.note ? `: ${t.note}` : ''}`)
  );
  return out.join('\n') + '\n';
}

/** A copy (copy mode): the target, the cutover point and its verification, the reverse sync. */
function copyMarkdown(copy: CopyOutcome): string[] {
  const c = copy.copied;
  const lines = [
    '## Copy',
    '',
    `Target \`${copy.target.database}/${copy.target.container}\`` +
      (copy.targetCreated === undefined
        ? ' (not created)'
        : copy.targetCreated
          ? ' (created by the run)'
          : ' (found empty)') +
      `; change feed in ${copy.mode} mode.`,
    `- ${c.read} read, ${c.written} copies written, ${c.deleted} deleted, ${c.failed} named problem(s), ${Math.round(c.ruConsumed)} RU`,
  ];
  if (copy.deletedAtCutover !== undefined)
    lines.push(`- ${copy.deletedAtCutover} copies of deleted documents removed at the cutover point`);
  if (copy.verification) {
    const v = copy.verification;
    lines.push(
      `- verified at the cutover point: ${v.passed ? 'passed' : 'FAILED'} (source ${v.sourceTotal}, target ${v.targetTotal}, ${v.sampled} sampled, ${v.mismatches.length} mismatch(es))`
    );
  }
  if (copy.throughputAfterCopy !== undefined)
    lines.push(`- target throughput set to ${copy.throughputAfterCopy} RU/s after the copy`);
  lines.push(
    copy.cutover
      ? `- cutover point ${copy.cutover.at}, by ${copy.cutover.by}; cutover hook ${copy.cutover.hookRan ? 'ran' : 'not run'}`
      : '- no cutover: the application was never pointed at the target'
  );
  if (copy.reverseSync) {
    const r = copy.reverseSync.counters;
    lines.push(
      copy.reverseSync.enabled
        ? `- reverse sync: ${r.written} written back, ${r.deleted} deleted in the source`
        : '- no reverse sync (down() not proved): a rollback after the cutover is not possible'
    );
  }
  return lines;
}
