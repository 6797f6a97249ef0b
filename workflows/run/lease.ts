/**
 * One run per container: the lease in Cosmos, acquired in preflight, renewed on a durable timer loop while the run
 * lives, released when it ends. A lease taken by another holder (it expired before it was renewed) is reported in
 * `lost`; the migrating loop stops starting work and the run pauses.
 */
import { CancellationScope, isCancellation, log, sleep } from '@temporalio/workflow';
import type { LeaseResult } from '../../common/activities';
import type { RunbookTuning } from '../../common/tuning';
import type { runbookActivities } from '../activities';
import { failureMessage } from '../../common/failure-message';

type Quick = ReturnType<typeof runbookActivities>['quick'];

export class Lease {
  /** Why the lease is no longer ours, once it is not. */
  lost?: string;
  /** One scope for the run's renewal loops: cancelled when the lease is released or the run continues as new. */
  private readonly scope = new CancellationScope();

  constructor(
    private readonly quick: Quick,
    private readonly tuning: RunbookTuning,
    private readonly holder: string,
    readonly key: string
  ) {}

  private input() {
    return { key: this.key, holder: this.holder, ttlSeconds: this.tuning.leaseTtlSeconds };
  }

  acquire(summary = `acquire lease on ${this.key}`): Promise<LeaseResult> {
    return this.quick.acquireLease.executeWithOptions({ summary }, [this.input()]);
  }

  /** Renews the lease every leaseRenewSeconds until the run ends (in the background). */
  keep(): void {
    void this.scope
      .run(async () => {
        for (;;) {
          await sleep(this.tuning.leaseRenewSeconds * 1000, { summary: 'renew the container lease' });
          const renewed = await this.quick.renewLease.executeWithOptions({ summary: `renew lease on ${this.key}` }, [
            this.input(),
          ]);
          if (!renewed.acquired) {
            this.lost = `the lease on ${this.key} was taken by ${renewed.holder} (expired before it was renewed)`;
            return;
          }
        }
      })
      .catch((err) => {
        if (!isCancellation(err)) this.lost = `the lease on ${this.key} could not be renewed: ${failureMessage(err)}`;
      });
  }

  /** Takes the lease back after it was lost (on resume); true when it is ours again. */
  async reacquire(): Promise<LeaseResult> {
    const lease = await this.acquire(`re-acquire lease on ${this.key}`);
    if (lease.acquired) {
      this.lost = undefined;
      this.keep();
    }
    return lease;
  }

  /** Stops renewing (continue-as-new: the next run renews the same lease). */
  stopRenewing(): void {
    this.scope.cancel();
  }

  /** Stops renewing and gives the lease up, even while the run is being cancelled; a failure is only logged. */
  async release(): Promise<void> {
    this.scope.cancel();
    await CancellationScope.nonCancellable(() =>
      this.quick.releaseLease.executeWithOptions({ summary: `release lease on ${this.key}` }, [
        { key: this.key, holder: this.holder },
      ])
    ).catch((err) => log.warn('lease release failed', { error: failureMessage(err) }));
  }
}
