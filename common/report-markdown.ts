/** The run's report in markdown: a pure function of the report, for a ticket, a chat message or the CLI. */
import type { RunbookReport } from './report';

const STATUS_WORDS: Record<RunbookReport['status'], string> = {
  completed: 'Completed and verified',
  'rolled-back': 'Rolled back',
  aborted: 'Aborted: nothing changed',
  failed: 'Failed',
  'rollback-failed': 'ROLLBACK FAILED: operator action needed',
  'dry-run': 'Dry run: nothing written',
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
  if (report.verification) {
    const v = report.verification;
    out.push('', '## Verification', '', v.ok ? 'All checks passed.' : 'Problems:', ...v.problems.map((p) => `- ${p}`));
    out.push(`- ${v.sampled} documents sampled, ${v.remaining} not at the target version`);
    for (const r of v.relationships) out.push(`- relationship \`${r.name}\`: ${r.rows} rows`);
  }
  if (report.rollbackPlan) out.push('', `**Rollback plan:** ${report.rollbackPlan}`);
  if (report.rollback) {
    const r = report.rollback;
    out.push('', '## Rollback', '', `By ${r.mode}: ${r.reason}. ${r.ok ? 'Verified.' : 'NOT verified:'}`);
    out.push(...r.problems.map((p) => `- ${p}`));
    if (r.revert) {
      const v = r.revert;
      out.push(
        `- ${v.reverted} reverted to their pre-image, ${v.merged} merged with the application's later writes, ${v.unchanged} already as before, ${v.deletedByApp} deleted by the application (left deleted), ${v.conflicts} with conflicts`
      );
      for (const c of r.conflicts ?? []) {
        out.push(
          `  - conflict: \`${c.id}\` (${JSON.stringify(c.partitionKey)}): ${c.fields.join(', ')} changed by both; left as the application wrote it`
        );
      }
    }
    if (r.discardedWrites !== undefined) {
      out.push(
        `- ${r.discardedWrites} document(s) written at or after T0 (the migration's own writes included) were discarded by the in-place restore`
      );
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
