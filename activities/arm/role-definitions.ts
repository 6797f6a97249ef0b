/**
 * Custom Azure role definitions for the worker's identity, one per strategy set, from the one list of actions
 * (./actions.ts): as JSON for `az role definition create --role-definition @file.json`, and as Bicep. Written to
 * docs/roles/ by `npm run roles`; test/foundation/roles.test.ts keeps the files equal to what this generates.
 * Format: https://learn.microsoft.com/azure/role-based-access-control/custom-roles (the JSON), and the
 * Microsoft.Authorization/roleDefinitions resource (the Bicep).
 */
import { actionsFor } from './actions';

export const ROLE_SETS = ['migration', 'with-restore', 'with-drill'] as const;
export type RoleSet = (typeof ROLE_SETS)[number];

const TITLES: Record<RoleSet, { name: string; description: string }> = {
  migration: {
    name: 'cosmos-runbook worker (migration)',
    description:
      'Runs cosmos-runbook migrations with rollback by down() or pre-images; no restore, no drill. Data-plane access is a separate Cosmos DB SQL role.',
  },
  'with-restore': {
    name: 'cosmos-runbook worker (migration, restore)',
    description:
      'Runs cosmos-runbook migrations and rolls back by point-in-time restore (deletes and restores a container). Data-plane access is a separate Cosmos DB SQL role.',
  },
  'with-drill': {
    name: 'cosmos-runbook worker (migration, restore, drill)',
    description:
      'Runs cosmos-runbook migrations, rollbacks by restore, and restore drills (creates and deletes a restored account). Data-plane access is a separate Cosmos DB SQL role.',
  },
};

/** The role as `az role definition create` takes it; `{subscriptionId}` is left for the user to fill in. */
export function roleJson(set: RoleSet): string {
  const role = {
    Name: TITLES[set].name,
    IsCustom: true,
    Description: TITLES[set].description,
    Actions: actionsFor(set),
    NotActions: [],
    DataActions: [],
    NotDataActions: [],
    // The restorable-account actions live under the subscription's locations/: the role is assignable there, and
    // assigned at the subscription or at the account's resource group plus the subscription's locations.
    AssignableScopes: ['/subscriptions/{subscriptionId}'],
  };
  return `${JSON.stringify(role, null, 2)}\n`;
}

export function roleBicep(set: RoleSet): string {
  const actions = actionsFor(set)
    .map((a) => `          '${a}'`)
    .join('\n');
  return `// Generated from activities/arm/actions.ts by \`npm run roles\`: do not edit by hand.
// ${TITLES[set].description}
// az deployment sub create --location <region> --template-file cosmos-runbook-${set}.bicep
targetScope = 'subscription'

@description('The name of the role.')
param roleName string = '${TITLES[set].name}'

resource role 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, roleName)
  properties: {
    roleName: roleName
    description: '${TITLES[set].description}'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
${actions}
        ]
        notActions: []
      }
    ]
    assignableScopes: [
      subscription().id
    ]
  }
}

output roleDefinitionId string = role.id
`;
}

/** file name → content, for docs/roles/. */
export function roleFiles(): Record<string, string> {
  return Object.fromEntries(
    ROLE_SETS.flatMap((set) => [
      [`cosmos-runbook-${set}.json`, roleJson(set)],
      [`cosmos-runbook-${set}.bicep`, roleBicep(set)],
    ])
  );
}
