/** The worker's workflows bundle: the runbook and its rollback child (docs/architecture.md §8). */
export { migrationRunbook, type CarriedState } from './runbook';
export { rollbackRunbook, type RollbackInput, type RollbackResult } from './rollback';
