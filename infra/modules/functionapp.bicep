// The Functions app: Python 3.11 on the Flex Consumption plan (Linux), with a
// system-assigned identity and identity-based connections only. No app setting holds a
// secret: storage, Service Bus, Batch and Application Insights are all reached with the
// app's identity (roles.bicep grants what it needs).
//
// Flex Consumption because handlers run up to 30 minutes (host.json functionTimeout), past
// the 10-minute cap of the Linux Consumption plan, and because it deploys its package
// from blob storage with the app's identity (no shared key, no Azure Files share).

param name string
param planName string
param location string
param tags object = {}

@description('Storage account used as AzureWebJobsStorage, for the deployment package and as mlcycle\'s blob and table store.')
param storageAccountName string

@description('Blob endpoint of that account, e.g. https://<account>.blob.core.windows.net/.')
param blobEndpoint string

@description('Container that holds the deployment package.')
param deploymentContainer string

@description('Service Bus namespace host, e.g. <namespace>.servicebus.windows.net.')
param serviceBusFullyQualifiedNamespace string

@description('Batch account URL, e.g. https://<account>.<region>.batch.azure.com.')
param batchAccountUrl string

param registryTableName string

@description('The Service Bus topic events are published to.')
param eventsTopicName string

@description('The queues\' max delivery count, for the bus adapter\'s own retries and dead-lettering.')
param maxDeliveryCount int

param appInsightsConnectionString string

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Spread instances across availability zones. Needs a region with zones, and keeps at least two always-ready instances per function group, billed around the clock.')
param zoneRedundant bool = false

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux
    zoneRedundant: zoneRedundant
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      remoteDebuggingEnabled: false
      appSettings: [
        // The Functions host's storage and the specs blob trigger (connection
        // "AzureWebJobsStorage"), with the app's identity.
        { name: 'AzureWebJobsStorage__accountName', value: storageAccountName }
        // The queue triggers (connection "ServiceBusConnection"), with the app's identity.
        { name: 'ServiceBusConnection__fullyQualifiedNamespace', value: serviceBusFullyQualifiedNamespace }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsightsConnectionString }
        // Telemetry is sent with the app's identity: the resource refuses the bare key.
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' }
        // mlcycle's own settings: which adapters bootstrap() builds, and where they point.
        { name: 'MLCYCLE_MODE', value: 'azure' }
        { name: 'MLCYCLE_STORAGE_ACCOUNT', value: storageAccountName }
        { name: 'MLCYCLE_SERVICEBUS_NAMESPACE', value: serviceBusFullyQualifiedNamespace }
        { name: 'MLCYCLE_BATCH_ACCOUNT_URL', value: batchAccountUrl }
        { name: 'MLCYCLE_REGISTRY_TABLE', value: registryTableName }
        { name: 'MLCYCLE_MAX_DELIVERIES', value: string(maxDeliveryCount) }
        { name: 'MLCYCLE_EVENTS_TOPIC', value: eventsTopicName }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainer}'
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

// Publishing uses the deployer's Entra ID token (func / az), never basic-auth credentials.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

output id string = site.id
output name string = site.name
output principalId string = site.identity.principalId
output defaultHostName string = site.properties.defaultHostName
