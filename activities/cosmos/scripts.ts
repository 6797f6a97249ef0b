/**
 * A container's server-side scripts: stored procedures, triggers and user-defined functions. Azure's point-in-time
 * restore does not restore them ("What is and isn't restored",
 * https://learn.microsoft.com/azure/cosmos-db/continuous-backup-restore-introduction), so the runbook reads them in
 * preflight and re-creates them after an in-place restore. Through the data plane (`container.scripts`,
 * @azure/cosmos dist/commonjs/client/Script/Scripts.js), which needs no ARM permission beyond the run's own.
 */
import type { Container, CosmosClient, TriggerDefinition } from '@azure/cosmos';
import type { ContainerRef, ContainerScripts } from '../../common/activities';

/** A script's body as the SDK types it (a string on the wire; a function only when a caller passed one). */
function bodyOf(body: unknown): string {
  if (typeof body === 'string') return body;
  return typeof body === 'function' ? body.toString() : '';
}

export async function exportScripts(cosmos: CosmosClient, ref: ContainerRef): Promise<ContainerScripts> {
  const { scripts } = cosmos.database(ref.database).container(ref.container);
  const [sprocs, triggers, udfs] = await Promise.all([
    scripts.storedProcedures.readAll().fetchAll(),
    scripts.triggers.readAll().fetchAll(),
    scripts.userDefinedFunctions.readAll().fetchAll(),
  ]);
  const byId = <T extends { id: string }>(list: T[]) => list.sort((a, b) => a.id.localeCompare(b.id));
  return {
    storedProcedures: byId(sprocs.resources.map((s) => ({ id: s.id, body: bodyOf(s.body) }))),
    triggers: byId(
      triggers.resources.map((t) => ({
        id: t.id,
        body: bodyOf(t.body),
        triggerType: String(t.triggerType),
        triggerOperation: String(t.triggerOperation),
      }))
    ),
    userDefinedFunctions: byId(udfs.resources.map((u) => ({ id: u.id, body: bodyOf(u.body) }))),
  };
}

/** Names of the exported scripts the container lacks or holds with another body, as "stored procedure x". */
export function missingScripts(exported: ContainerScripts, current: ContainerScripts): string[] {
  const missing: string[] = [];
  const check = <T extends { id: string }>(what: string, want: T[], have: T[]) => {
    for (const script of want) {
      const found = have.find((h) => h.id === script.id);
      if (!found || JSON.stringify(found) !== JSON.stringify(script)) missing.push(`${what} ${script.id}`);
    }
  };
  check('stored procedure', exported.storedProcedures, current.storedProcedures);
  check('trigger', exported.triggers, current.triggers);
  check('user-defined function', exported.userDefinedFunctions, current.userDefinedFunctions);
  return missing;
}

/** Creates the script, or replaces it when one of that id exists (409): the SDK has no upsert for scripts. */
async function put(create: () => Promise<unknown>, replace: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
    await replace();
  }
}

/**
 * Re-creates the exported scripts the container lacks or holds differently (a retry after some were created finds
 * them and leaves them). Returns what it wrote, in words.
 */
export async function recreateScripts(
  cosmos: CosmosClient,
  ref: ContainerRef,
  exported: ContainerScripts
): Promise<string[]> {
  const container: Container = cosmos.database(ref.database).container(ref.container);
  const { scripts } = container;
  const missing = new Set(missingScripts(exported, await exportScripts(cosmos, ref)));
  const written: string[] = [];
  for (const sproc of exported.storedProcedures) {
    if (!missing.has(`stored procedure ${sproc.id}`)) continue;
    await put(
      () => scripts.storedProcedures.create(sproc),
      () => scripts.storedProcedure(sproc.id).replace(sproc)
    );
    written.push(`stored procedure ${sproc.id}`);
  }
  for (const trigger of exported.triggers) {
    if (!missing.has(`trigger ${trigger.id}`)) continue;
    const definition = trigger as TriggerDefinition;
    await put(
      () => scripts.triggers.create(definition),
      () => scripts.trigger(trigger.id).replace(definition)
    );
    written.push(`trigger ${trigger.id}`);
  }
  for (const udf of exported.userDefinedFunctions) {
    if (!missing.has(`user-defined function ${udf.id}`)) continue;
    await put(
      () => scripts.userDefinedFunctions.create(udf),
      () => scripts.userDefinedFunction(udf.id).replace(udf)
    );
    written.push(`user-defined function ${udf.id}`);
  }
  return written;
}
