/**
 * A rollback by restore never makes things worse: it proves Azure can restore before it deletes, and it deletes only
 * with consent. A container on shared database throughput is refused at preflight; without a stop-app hook the
 * restore refuses before deleting anything; `allowRestoreWithoutAppStop` (with the restore approval off) restores.
 * Phase-machine cases: on the fake activities (test/support/fake-activities). What proveRestorable finds through ARM
 * is test/engine/rollback-restore.test.ts; a restore end to end with the data compared is rollback.test.ts.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ErrorType } from '../../common/errors';
import { resumeSignal } from '../../workflows/messages';
import { FakeRunbook } from '../support/fake-runbook';
import { waitForPhase } from './harness';

/** Each case has its own worker, task queue and fake activities: they run side by side (jest's test.concurrent). */
const test = it.concurrent;
let f: FakeRunbook;
beforeAll(async () => {
  f = await FakeRunbook.start();
});
afterAll(async () => {
  await f?.close();
});

/** No pre-images: with no down() either, the rollback is an in-place restore. */
const fast = { monitor: { duration: '1s', interval: '1s' }, approval: { required: false }, preimages: false };
/** No down() and verify() rejects one document: verification fails after migrating, the rollback is a restore. */
const failing = { migration: { hasDown: false }, verificationProblems: ['d-0003: looks wrong'] };

test('a container on shared database throughput with rollback "restore" is refused at preflight, nothing changed', async () => {
  const shared = 'container db/customers uses the shared throughput of database db (400 RU/s)';
  const script = { ...failing, documents: 6, hooks: { stopApp: true, startApp: true } };
  await f.with({ ...script, unrestorable: { 'dedicated-throughput': shared } }, async (kit) => {
    const failed = await (await f.start(kit, { ...fast, rollback: 'restore' })).result().catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(WorkflowFailedError);
    const message = ((failed as WorkflowFailedError).cause as Error).message;
    expect(message).toMatch(/^rollback by restore is not possible, so nothing was changed: .*shared/);
    expect(kit.calls.count('migrateRange')).toBe(0);
    expect(kit.container.documents.every((d) => d.version === 1 && d.ups === 0)).toBe(true);
  });
});

test('an account with an operation in progress when the rollback comes is refused before any delete (AccountOperationInProgress), the data kept', async () => {
  const busy = 'account acct is Updating: an operation is in progress on the account';
  const script = {
    ...failing,
    documents: 6,
    hooks: { stopApp: true, startApp: true },
    // Preflight's proof passes; the account is mid-failover when verification fails and the rollback proves again.
    restorableCalls: 1,
    unrestorable: { 'account-state': busy },
  };
  await f.with(script, async (kit) => {
    const handle = await f.start(kit, { ...fast, rollback: 'restore' });
    const failed = await waitForPhase(handle, 'rollback-failed');
    expect(failed.lastError).toContain(`so nothing was deleted: ${busy}`);
    expect(kit.calls.count('deleteContainer')).toBe(0);
    expect(kit.deleted()).toBe(false);
    expect(kit.container.documents.every((d) => d.version === 2 && d.ups === 1)).toBe(true);
    await handle.signal(resumeSignal);
    const report = await handle.result();
    expect(report.status).toBe('rollback-failed');
    expect(report.rollback).toMatchObject({ ok: false, errorType: ErrorType.AccountOperationInProgress });
  });
});

test('the account turning busy at the delete itself: nothing deleted, the report names AccountOperationInProgress', async () => {
  const busy = 'account acct is Updating: an operation is in progress on the account';
  const script = {
    ...failing,
    documents: 6,
    hooks: { stopApp: true, startApp: true },
    deleteRefused: { type: ErrorType.AccountOperationInProgress, message: busy },
  };
  await f.with(script, async (kit) => {
    const handle = await f.start(kit, {
      ...fast,
      rollback: 'restore',
      approval: { required: false, requiredForRestore: false },
    });
    await waitForPhase(handle, 'rollback-failed');
    expect(kit.deleted()).toBe(false);
    expect(kit.container.documents.every((d) => d.version === 2 && d.ups === 1)).toBe(true);
    await handle.signal(resumeSignal);
    const report = await handle.result();
    expect(report.status).toBe('rollback-failed');
    // The activity's ApplicationFailure arrives as the cause of an ActivityFailure: its type is still named.
    expect(report.rollback).toMatchObject({ ok: false, errorType: ErrorType.AccountOperationInProgress });
  });
});

test('without a stop-app hook an in-place restore refuses before deleting: the container and its data stay', async () => {
  await f.with({ ...failing, documents: 8 }, async (kit) => {
    const handle = await f.start(kit, fast);
    const failed = await waitForPhase(handle, 'rollback-failed');
    expect(failed.lastError).toContain('it needs a stop-app hook (stopApp in HOOKS_CONFIG)');
    expect(failed.lastError).toContain('nothing was deleted');
    // Still there, as the migration left it: nothing destroyed.
    expect(kit.calls.count('deleteContainer')).toBe(0);
    expect(kit.deleted()).toBe(false);
    expect(kit.container.documents.every((d) => d.version === 2 && d.ups === 1)).toBe(true);
    await handle.signal(resumeSignal);
    const report = await handle.result();
    expect(report.status).toBe('rollback-failed');
  });
});

test('allowRestoreWithoutAppStop and requiredForRestore: false restore in place without hooks or a second approval', async () => {
  await f.with({ ...failing, documents: 10 }, async (kit) => {
    const report = await (
      await f.start(kit, {
        ...fast,
        approval: { required: false, requiredForRestore: false },
        allowRestoreWithoutAppStop: true,
      })
    ).result();
    expect(report.status).toBe('rolled-back');
    expect(report.rollback).toMatchObject({ mode: 'restore', ok: true, discardedWrites: 10 });
    expect(kit.records.ran).toEqual([]);
    expect(kit.calls.count('deleteContainer')).toBe(1);
    expect(kit.calls.count('restoreContainer')).toBe(1);
    expect(kit.container.documents.every((d) => d.version === 1)).toBe(true);
  });
});
