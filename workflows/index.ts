/** The worker's workflows bundle: the runbook, its rollback child (docs/architecture.md §8) and the restore drill. */
export { migrationRunbook, type CarriedState } from './runbook';
export { rollbackRunbook, type RollbackInput, type RollbackResult } from './rollback/runbook';
export { restoreDrill, type RestoreDrillInput } from './drill';
