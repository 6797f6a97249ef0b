// Generated from activities/arm/actions.ts by `npm run roles`: do not edit by hand.
// Runs cosmos-runbook migrations and rolls back by point-in-time restore (deletes and restores a container). Data-plane access is a separate Cosmos DB SQL role.
// az deployment sub create --location <region> --template-file cosmos-runbook-with-restore.bicep
targetScope = 'subscription'

@description('The name of the role.')
param roleName string = 'cosmos-runbook worker (migration, restore)'

resource role 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, roleName)
  properties: {
    roleName: roleName
    description: 'Runs cosmos-runbook migrations and rolls back by point-in-time restore (deletes and restores a container). Data-plane access is a separate Cosmos DB SQL role.'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.DocumentDB/databaseAccounts/read'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/read'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/write'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/throughputSettings/read'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/read'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/write'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/throughputSettings/read'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/throughputSettings/write'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/throughputSettings/migrateToAutoscale/action'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/throughputSettings/migrateToManualThroughput/action'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/storedProcedures/read'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/storedProcedures/write'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/triggers/read'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/triggers/write'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/userDefinedFunctions/read'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/userDefinedFunctions/write'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/retrieveContinuousBackupInformation/action'
          'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/delete'
          'Microsoft.DocumentDB/locations/restorableDatabaseAccounts/read'
          'Microsoft.DocumentDB/locations/restorableDatabaseAccounts/*/read'
          'Microsoft.DocumentDB/locations/restorableDatabaseAccounts/restore/action'
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
