/**
 * A container's server-side scripts: stored procedures, triggers and user-defined functions. Azure's point-in-time
 * restore does not restore them ("What is and isn't restored",
 * https://learn.microsoft.com/azure/cosmos-db/continuous-backup-restore-introduction), so the runbook reads them in
 * preflight and re-creates them after an in-place restore. Through the data plane (`container.scripts`,
 * @azure/cosmos dist/commonjs/client/Script/Scripts.js) with a key; a Microsoft Entra identity may not read or write
 * scripts there (data-plane RBAC "does not cover ... Create/Replace/Delete/Read Stored Procedures, Triggers, User
 * Defined Functions", https://learn.microsoft.com/azure/cosmos-db/how-to-setup-rbac), so a 403 falls back to ARM's
 * sqlStoredProcedures / sqlTriggers / sqlUserDefinedFunctions (actions in production.md). The local stack refuses an
 * Entra token scripts as Azure does and serves them through its ARM imitation: test/engine/scripts-entra.test.ts.
 */
import type { Container, TriggerDefinition } from '@azure/cosmos';
import type { ContainerRef, ContainerScripts } from '../../common/activities';
import type { ActivityDeps } from '../deps';

export type ScriptDeps = Pick<ActivityDeps, 'cosmos' | 'arm' | 'account' | 'armPollIntervalMs'>;

const isForbidden = (err: unknown) => (err as { code?: number; statusCode?: number }).code === 403;

/** A script's body as the SDK types it (a string on the wire; a function only when a caller passed one). */
function bodyOf(body: unknown): string {
  if (typeof body === 'string') return body;
  return typeof body === 'function' ? body.toString() : '';
}

export async function exportScripts(deps: ScriptDeps, ref: ContainerRef): Promise<ContainerScripts> {
  const { scripts } = deps.cosmos.database(ref.database).container(ref.container);
  let read: ContainerScripts;
  try {
    const [sprocs, triggers, udfs] = await Promise.all([
      scripts.storedProcedures.readAll().fetchAll(),
      scripts.triggers.readAll().fetchAll(),
      scripts.userDefinedFunctions.readAll().fetchAll(),
    ]);
    read = {
      storedProcedures: sprocs.resources.map((s) => ({ id: s.id, body: bodyOf(s.body) })),
      triggers: triggers.resources.map((t) => ({
        id: t.id,
        body: bodyOf(t.body),
        triggerType: String(t.triggerType),
        triggerOperation: String(t.triggerOperation),
      })),
      userDefinedFunctions: udfs.resources.map((u) => ({ id: u.id, body: bodyOf(u.body) })),
    };
  } catch (err) {
    if (!isForbidden(err)) throw err;
    read = await exportScriptsThroughArm(deps, ref);
  }
  const byId = <T extends { id: string }>(list: T[]) => list.sort((a, b) => a.id.localeCompare(b.id));
  return {
    storedProcedures: byId(read.storedProcedures),
    triggers: byId(read.triggers),
    userDefinedFunctions: byId(read.userDefinedFunctions),
  };
}

async function exportScriptsThroughArm(deps: ScriptDeps, ref: ContainerRef): Promise<ContainerScripts> {
  const { resourceGroup, name } = deps.account;
  const sql = deps.arm.sqlResources;
  const out: ContainerScripts = { storedProcedures: [], triggers: [], userDefinedFunctions: [] };
  for await (const s of sql.listSqlStoredProcedures(resourceGroup, name, ref.database, ref.container)) {
    if (s.resource) out.storedProcedures.push({ id: s.resource.id, body: s.resource.body ?? '' });
  }
  for await (const t of sql.listSqlTriggers(resourceGroup, name, ref.database, ref.container)) {
    if (!t.resource) continue;
    out.triggers.push({
      id: t.resource.id,
      body: t.resource.body ?? '',
      triggerType: String(t.resource.triggerType),
      triggerOperation: String(t.resource.triggerOperation),
    });
  }
  for await (const u of sql.listSqlUserDefinedFunctions(resourceGroup, name, ref.database, ref.container)) {
    if (u.resource) out.userDefinedFunctions.push({ id: u.resource.id, body: u.resource.body ?? '' });
  }
  return out;
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

/**
 * Creates the script, or replaces it when one of that id exists (409): the SDK has no upsert for scripts. A 403 (an
 * Entra identity, see above) writes it through ARM, whose PUT creates or replaces.
 */
async function put(
  create: () => Promise<unknown>,
  replace: () => Promise<unknown>,
  throughArm: () => Promise<unknown>
): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (isForbidden(err)) {
      await throughArm();
      return;
    }
    if ((err as { code?: number }).code !== 409) throw err;
    await replace();
  }
}

/**
 * Re-creates the exported scripts the container lacks or holds differently (a retry after some were created finds
 * them and leaves them). Returns what it wrote, in words.
 */
export async function recreateScripts(
  deps: ScriptDeps,
  ref: ContainerRef,
  exported: ContainerScripts
): Promise<string[]> {
  const container: Container = deps.cosmos.database(ref.database).container(ref.container);
  const { scripts } = container;
  const { resourceGroup, name } = deps.account;
  const sql = deps.arm.sqlResources;
  const poll = { updateIntervalInMs: deps.armPollIntervalMs };
  const at = [resourceGroup, name, ref.database, ref.container] as const;
  const missing = new Set(missingScripts(exported, await exportScripts(deps, ref)));
  const written: string[] = [];
  for (const sproc of exported.storedProcedures) {
    if (!missing.has(`stored procedure ${sproc.id}`)) continue;
    await put(
      () => scripts.storedProcedures.create(sproc),
      () => scripts.storedProcedure(sproc.id).replace(sproc),
      () => sql.beginCreateUpdateSqlStoredProcedureAndWait(...at, sproc.id, { resource: sproc, options: {} }, poll)
    );
    written.push(`stored procedure ${sproc.id}`);
  }
  for (const trigger of exported.triggers) {
    if (!missing.has(`trigger ${trigger.id}`)) continue;
    const definition = trigger as TriggerDefinition;
    await put(
      () => scripts.triggers.create(definition),
      () => scripts.trigger(trigger.id).replace(definition),
      () =>
        sql.beginCreateUpdateSqlTriggerAndWait(
          ...at,
          trigger.id,
          {
            resource: trigger,
            options: {},
          },
          poll
        )
    );
    written.push(`trigger ${trigger.id}`);
  }
  for (const udf of exported.userDefinedFunctions) {
    if (!missing.has(`user-defined function ${udf.id}`)) continue;
    await put(
      () => scripts.userDefinedFunctions.create(udf),
      () => scripts.userDefinedFunction(udf.id).replace(udf),
      () => sql.beginCreateUpdateSqlUserDefinedFunctionAndWait(...at, udf.id, { resource: udf, options: {} }, poll)
    );
    written.push(`user-defined function ${udf.id}`);
  }
  return written;
}
