/** The end of a run (the manual runbook's "Document" step): the final phase, the migrations-history record, the report. */
import { workflowInfo } from '@temporalio/workflow';
import type { RunbookReport } from '../../common/report';
import { buildReport, historyRecord } from '../run/report';
import type { Run } from '../run/run';
import { endLevel, type RunEnd } from '../run/transition';

export async function finish(run: Run, end: RunEnd): Promise<RunbookReport> {
  await run.enterPhase(end.phase, end.reason, endLevel(end));
  run.inbox.stopAsking();
  const ids = { workflowId: run.workflowId, runId: workflowInfo().firstExecutionRunId };
  await run.acts.quick.recordHistory.executeWithOptions({ summary: `record ${end.status} in the migrations history` }, [
    historyRecord(run.state, end, ids, run.now()),
  ]);
  return buildReport(run.state, end, run.workflowId, run.now());
}
