/**
 * What every copy activity opens first: the module (through resolveTarget, so the checksum the run approved is
 * checked), the source and target containers and their partition key paths, and how a document is derived.
 */
import type { Container } from '@azure/cosmos';
import type { CopyRef } from '../../common/copy';
import type { ActivityDeps } from '../deps';
import { invalid, resolveTarget } from '../cosmos/target';
import { readPartitionKeyPaths } from '../cosmos/transform';
import type { CopyShape } from './derive';

export interface OpenCopy {
  source: Container;
  target: Container;
  shape: CopyShape;
}

export async function openCopy(deps: ActivityDeps, input: CopyRef): Promise<OpenCopy> {
  const resolved = resolveTarget(deps.registry, { ...input, direction: 'up' });
  const declared = resolved.definition.target?.container;
  if (!declared || declared !== input.target.container || input.target.database !== resolved.database) {
    throw invalid(
      `migration ${resolved.definition.id} declares ${declared ? `target ${declared}` : 'no target'}, not ${input.target.database}/${input.target.container}`
    );
  }
  if (!resolved.rule || !resolved.transform) {
    throw invalid(`migration ${resolved.definition.id} has a target but no up() with fromVersion/toVersion`);
  }
  const db = deps.cosmos.database(resolved.database);
  const source = db.container(resolved.container);
  const target = db.container(input.target.container);
  const [sourcePaths, targetPaths] = await Promise.all([readPartitionKeyPaths(source), readPartitionKeyPaths(target)]);
  const definition = resolved.definition;
  const down = typeof definition.down === 'function' ? definition.down.bind(definition) : undefined;
  return {
    source,
    target,
    shape: { rule: resolved.rule, transform: resolved.transform, ...(down ? { down } : {}), sourcePaths, targetPaths },
  };
}
