/**
 * How `up`/`down` flags become the workflow input (common/runbook-input.ts), and the names `new` gives modules.
 * Pure functions: no stack needed.
 */
import { parseRunbookInput } from '../../common/runbook-input';
import { slug, timestamp } from '../../client/commands/new';
import { runbookInputFrom } from '../../client/commands/run';
import { CliError } from '../../client/errors';
import { describeDecision, formatDuration } from '../../client/format';
import { describeDrill } from '../../client/commands/drill';
import { runbookWorkflowId } from '../../client/target';

const target = { database: 'demo', container: 'customers' };

describe('runbookInputFrom', () => {
  test('no flags: only the migration, the direction and the resolved container; defaults come from the schema', () => {
    const input = runbookInputFrom('001-x', 'up', target, {});
    expect(input).toEqual({ migration: '001-x', direction: 'up', database: 'demo', container: 'customers' });
    const parsed = parseRunbookInput(input);
    expect(parsed.approval).toEqual({ required: true, timeout: '24h', requiredForRestore: true });
    expect(parsed.monitor).toEqual({ duration: '1h', interval: '1m', failuresBeforeRollback: 3 });
  });

  test('every flag maps to its input field; bare digits in durations are seconds', () => {
    const input = runbookInputFrom('001-x', 'down', target, {
      batchSize: 50,
      ruBudget: 400,
      concurrency: 2,
      maxFailures: 3,
      monitorDuration: '90',
      monitorInterval: '10s',
      rollback: 'restore',
      dryRun: true,
      approvalTimeout: '2h',
    });
    expect(input).toEqual({
      migration: '001-x',
      direction: 'down',
      database: 'demo',
      container: 'customers',
      batchSize: 50,
      ruBudget: 400,
      concurrency: 2,
      maxFailures: 3,
      monitor: { duration: '90s', interval: '10s' },
      rollback: 'restore',
      dryRun: true,
      approval: { required: true, timeout: '2h' },
    });
  });

  test('--no-approval sets approval.required false', () => {
    expect(runbookInputFrom('001-x', 'up', target, { approval: false }).approval).toEqual({ required: false });
  });

  test('a value the workflow would refuse fails before anything starts, naming the field', () => {
    expect(() => runbookInputFrom('001-x', 'up', target, { batchSize: 5000 })).toThrow(CliError);
    expect(() => runbookInputFrom('001-x', 'up', target, { batchSize: 5000 })).toThrow(/^invalid option: batchSize: /);
    expect(() => runbookInputFrom('001-x', 'up', target, { monitorDuration: 'soon' })).toThrow(/monitor\.duration/);
  });
});

describe('names', () => {
  test('workflow ids: one per container, plans apart', () => {
    expect(runbookWorkflowId('acct', 'demo', 'customers')).toBe('cosmos-runbook/acct/demo/customers');
    expect(runbookWorkflowId('acct', 'demo', 'customers', true)).toBe('cosmos-runbook-plan/acct/demo/customers');
  });

  test('new: UTC timestamp and a kebab-case name', () => {
    expect(timestamp(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe('20260102030405');
    expect(slug('  Add Email_Verified flag! ')).toBe('add-email-verified-flag');
    expect(slug('***')).toBe('');
  });

  test('durations read like a human writes them', () => {
    expect(formatDuration(42)).toBe('42s');
    expect(formatDuration(2.083)).toBe('2.1s');
    expect(formatDuration(0.4)).toBe('0.4s');
    expect(formatDuration(125)).toBe('2m 05s');
    expect(formatDuration(3 * 3600 + 7 * 60)).toBe('3h 07m');
    expect(formatDuration(undefined)).toBe('?');
    // migrate drill: a 2 s restore reads 2.1s, not "34m 43s" (durationMs is milliseconds).
    const drill = {
      database: 'db',
      container: 'c',
      account: 'acct',
      at: '2026-01-01T00:00:00.000Z',
      copyAccount: 'c-drill',
      startedAt: '2026-01-01T00:01:00.000Z',
      finishedAt: '2026-01-01T00:01:02.083Z',
      durationMs: 2083,
      documents: 40,
      docsPerSecond: 19.2,
      ok: true,
      mismatches: [],
    };
    expect(describeDrill(drill)).toBe(
      '40 documents restored at 2026-01-01T00:00:00.000Z into c-drill in 2.1s (19.2 docs/s); account deleted; drill recorded'
    );
  });

  test('a pending decision comes with the exact commands that answer it', () => {
    expect(
      describeDecision(
        { kind: 'resume-or-rollback', signals: ['resume', 'rollback'], reason: '3 documents failed' },
        '001-x',
        '--container c2'
      )
    ).toEqual([
      'paused: 3 documents failed',
      '  resume: `npm run migrate -- resume 001-x --container c2`   roll back: `npm run migrate -- rollback 001-x --container c2`',
    ]);
  });

  test("a copy's rollback before the cutover asks before deleting a target that holds documents not the run's copies", () => {
    const decision = {
      kind: 'approve-delete-container' as const,
      signals: ['approve', 'abort'] as ['approve', 'abort'],
      reason: 'possibly the application’s: app-1',
      documents: 101,
      notCopies: 1,
      ids: ['app-1'],
    };
    expect(describeDecision(decision, '010-x')[0]).toBe(
      "the rollback would delete the copy's target, which holds 101 document(s), 1 of them not the run's copies: possibly the application’s: app-1"
    );
    const { notCopies: _n, ids: _i, ...created } = decision;
    expect(describeDecision(created, '010-x')[0]).toBe(
      'the rollback would delete a container the migration created, which holds 101 document(s): possibly the application’s: app-1'
    );
  });
});
