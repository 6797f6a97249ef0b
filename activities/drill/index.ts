/** The restore drill's activities: restore into a new account, compare, delete the account, record, find. */
import type { RunbookActivities } from '../../common/activities';
import type { ActivityDeps } from '../deps';
import { deleteDrillAccount, restoreDrillAccount } from './arm';
import { compareDrill, findRecentDrill, recordDrill } from './cosmos';

export type DrillActivities = Pick<
  RunbookActivities,
  'restoreDrillAccount' | 'compareDrill' | 'deleteDrillAccount' | 'recordDrill' | 'findRecentDrill'
>;

export function createDrillActivities(deps: ActivityDeps): DrillActivities {
  return {
    restoreDrillAccount: (input) => restoreDrillAccount(deps, input),
    compareDrill: (input) => compareDrill(deps, input),
    deleteDrillAccount: (input) => deleteDrillAccount(deps, input),
    recordDrill: (record) => recordDrill(deps, record),
    findRecentDrill: (input) => findRecentDrill(deps, input),
  };
}
