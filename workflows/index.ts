/** The worker's workflows bundle: the runbook and its rollback child (ARCHITECTURE §8). */
export { migrationRunbook, type CarriedState } from './runbook';
export { rollbackRunbook, type RollbackInput, type RollbackResult } from './rollback';
