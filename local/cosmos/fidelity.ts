/**
 * Switches of the emulator's fidelity to Azure where Azure is less kind than a simple server (issue: an emulator no
 * kinder than Azure): each is an option of `startLocalCosmos`, defaulting to an environment variable, and has a
 * control at run time. On by default where Azure does it.
 */

/**
 * A boolean environment variable: `1`/`true`/`on` or `0`/`false`/`off` (any case); absent or empty: `fallback`.
 * Anything else is refused, so a typo does not silently keep the default.
 */
export function envFlag(name: string, fallback: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '') return fallback;
  if (['1', 'true', 'on'].includes(raw)) return true;
  if (['0', 'false', 'off'].includes(raw)) return false;
  throw new Error(`${name} must be 1/true/on or 0/false/off, got "${env[name]}"`);
}

/** `LOCAL_COSMOS_PARTIAL_BULK_THROTTLING`: a bulk over budget answered in part (207 + per-operation 429), default on. */
export const PARTIAL_BULK_THROTTLING_ENV = 'LOCAL_COSMOS_PARTIAL_BULK_THROTTLING';

/** `LOCAL_COSMOS_PRIORITY_BASED_EXECUTION`: the account's priority-based execution at start, default off (Azure's). */
export const PRIORITY_BASED_EXECUTION_ENV = 'LOCAL_COSMOS_PRIORITY_BASED_EXECUTION';

/** `LOCAL_COSMOS_PRIORITY_MODEL`: `azure` (the default) or `reserve` (the earlier model; ru-model.ts PriorityModel). */
export const PRIORITY_MODEL_ENV = 'LOCAL_COSMOS_PRIORITY_MODEL';

export function envPriorityModel(env: NodeJS.ProcessEnv = process.env): 'azure' | 'reserve' {
  const raw = (env[PRIORITY_MODEL_ENV] ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'azure') return 'azure';
  if (raw === 'reserve') return 'reserve';
  throw new Error(`${PRIORITY_MODEL_ENV} must be azure or reserve, got "${env[PRIORITY_MODEL_ENV]}"`);
}
