// Generated from activities/arm/actions.ts by `npm run roles`: do not edit by hand.
// Runs cosmos-runbook migrations with rollback by down() or pre-images; no restore, no drill. Data-plane access is a separate Cosmos DB SQL role.
// az deployment sub create --location <region> --template-file cosmos-runbook-migration.bicep
targetScope = 'subscription'

@description('The name of the role.')
param roleName string = 'cosmos-runbook worker (migration)'

resource role 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, roleName)
  properties: {
    roleName: roleName
    description: 'Runs cosmos-runbook migrations with rollback by down() or pre-images; no restore, no drill. Data-plane access is a separate Cosmos DB SQL role.'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.DocumentDB/databaseAccounts/read'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/read'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/write'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/read'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/write'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/throughputSettings/read'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/throughputSettings/write'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/storedProcedures/read'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/triggers/read'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/userDefinedFunctions/read'
          'Microsoft.DocumentDB/locations/restorableDatabaseAccounts/read'
          'Microsoft.DocumentDB/locations/operationsStatus/read'
          'Microsoft.DocumentDB/locations/operationResults/read'
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
