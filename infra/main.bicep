// mlcycle on Azure: the storage account, the Service Bus queues, the Batch account, the
// Functions app, Application Insights, and the roles the app's identity needs.
//
// infra/deploy.sh deploys it in two passes: the first creates everything and the app's
// code is published; the second (subscribeSpecsEvents=true) adds the Event Grid
// subscription that drives the specs/ blob trigger, which needs the published code.
targetScope = 'resourceGroup'

@description('Prefix of every resource name; a hash of the resource group and prefix keeps the names unique.')
@minLength(3)
@maxLength(11)
param namePrefix string = 'mlcycle'

@description('Region of every resource. The Flex Consumption plan is offered in some regions only: az functionapp list-flexconsumption-locations.')
param location string = resourceGroup().location

@description('Tags on every resource.')
param tags object = {
  app: 'mlcycle'
}

@description('Storage replication. Standard_ZRS or Standard_GZRS where the region has availability zones.')
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_GZRS', 'Standard_RAGRS', 'Standard_RAGZRS'])
param storageSkuName string = 'Standard_GRS'

@description('Deliveries of a message before Service Bus dead-letters it (MLCYCLE_MAX_DELIVERIES locally).')
@minValue(1)
@maxValue(2000)
param maxDeliveryCount int = 5

@description('Peek-lock duration of every queue, ISO 8601, at most PT5M (MLCYCLE_LOCK_TIMEOUT_S locally).')
param lockDuration string = 'PT5M'

@description('Time an unreceived message lives before it is dead-lettered, ISO 8601.')
param messageTimeToLive string = 'P14D'

@description('Duplicate detection window, ISO 8601 (at least PT20S, at most P7D).')
param duplicateDetectionWindow string = 'PT10M'

@description('Table Storage table of the registry (MLCYCLE_REGISTRY_TABLE).')
param registryTableName string = 'registry'

@description('Memory of each Functions instance, MB.')
@allowed([512, 2048, 4096])
param functionInstanceMemoryMB int = 2048

@description('Most instances the Functions app scales out to.')
@minValue(1)
@maxValue(1000)
param functionMaximumInstanceCount int = 40

@description('Spread the Functions instances across availability zones (needs a region with zones; keeps two always-ready instances per function group, billed).')
param functionZoneRedundant bool = false

@description('Object id of a user or group allowed to drop spec files into the specs container. Empty: nobody.')
param specsUploaderPrincipalId string = ''

@description('Create the Event Grid subscription for the specs blob trigger. Only once the app\'s code is published (deploy.sh\'s second pass).')
param subscribeSpecsEvents bool = false

// DESIGN.md: one queue per queue-triggered handler (functions/*.py queue_name=...).
var queues = [
  'data-register'
  'compute-scale'
  'job-launch'
  'job-complete'
  'model-register'
  'onnx-convert'
  'deploy'
  'sweep' // shared/handlers/sweep.py: hyperparameter sweeps, a queue DESIGN.md does not list yet
]

// DESIGN.md, Storage layout; the CLI's uploads and bundles; the deployment package.
var specsContainer = 'specs'
var deploymentContainer = 'app-package'
var containers = [
  specsContainer
  'snapshots'
  'bundles'
  'uploads'
  'datasets'
  'runs'
  'models'
  'workspaceblobstore' // the SDK door's datastore (docs/sdk.md)
  'staging' // Put Block's blocks until their list is committed
  deploymentContainer
]

// functions/spec_dropped.py: the blob-triggered function.
var specsFunctionName = 'spec_dropped'

var suffix = uniqueString(resourceGroup().id, namePrefix)
var compactPrefix = toLower(replace(namePrefix, '-', ''))
var names = {
  storage: take('${compactPrefix}st${suffix}', 24)
  serviceBus: '${namePrefix}-sb-${suffix}'
  batch: take('${compactPrefix}ba${suffix}', 24)
  plan: '${namePrefix}-plan-${suffix}'
  functionApp: '${namePrefix}-func-${suffix}'
  workspace: '${namePrefix}-logs-${suffix}'
  insights: '${namePrefix}-ai-${suffix}'
  specsTopic: '${namePrefix}-specs-${suffix}'
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    workspaceName: names.workspace
    insightsName: names.insights
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: tags
    skuName: storageSkuName
    containers: containers
    registryTableName: registryTableName
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  params: {
    name: names.serviceBus
    location: location
    tags: tags
    queues: queues
    maxDeliveryCount: maxDeliveryCount
    lockDuration: lockDuration
    messageTimeToLive: messageTimeToLive
    duplicateDetectionWindow: duplicateDetectionWindow
  }
}

module batch 'modules/batch.bicep' = {
  name: 'batch'
  params: {
    name: names.batch
    location: location
    tags: tags
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
    blobEndpoint: storage.outputs.blobEndpoint
    deploymentContainer: deploymentContainer
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    batchAccountUrl: batch.outputs.accountUrl
    registryTableName: registryTableName
    maxDeliveryCount: maxDeliveryCount
    eventsTopicName: serviceBus.outputs.eventsTopic
    appInsightsConnectionString: monitoring.outputs.connectionString
    instanceMemoryMB: functionInstanceMemoryMB
    maximumInstanceCount: functionMaximumInstanceCount
    zoneRedundant: functionZoneRedundant
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    principalId: functionApp.outputs.principalId
    storageAccountName: storage.outputs.name
    serviceBusNamespaceName: serviceBus.outputs.name
    batchAccountName: batch.outputs.name
    appInsightsName: monitoring.outputs.insightsName
    specsContainerName: specsContainer
    specsUploaderPrincipalId: specsUploaderPrincipalId
  }
}

module specsEvents 'modules/eventgrid.bicep' = if (subscribeSpecsEvents) {
  name: 'eventgrid'
  params: {
    location: location
    tags: tags
    systemTopicName: names.specsTopic
    storageAccountName: storage.outputs.name
    functionAppName: functionApp.outputs.name
    functionName: specsFunctionName
    containerName: specsContainer
  }
  dependsOn: [
    roles
  ]
}

output functionAppName string = functionApp.outputs.name
output functionAppUrl string = 'https://${functionApp.outputs.defaultHostName}'
output storageAccountName string = storage.outputs.name
output serviceBusNamespace string = serviceBus.outputs.fullyQualifiedNamespace
output batchAccountUrl string = batch.outputs.accountUrl
output registryTableName string = registryTableName
output specsContainer string = specsContainer
output specsFunctionName string = specsFunctionName
