// The Service Bus namespace and one queue per handler (DESIGN.md, Events and queues).
// Duplicate detection on the envelope's `id` (sent as MessageId) makes a resent command
// a no-op at the bus; the handlers are idempotent besides.

@description('Namespace name: 6-50 letters, digits and hyphens, globally unique.')
@minLength(6)
@maxLength(50)
param name string

param location string
param tags object = {}

@description('One queue per queue-triggered handler.')
param queues array

@description('Deliveries before a message is dead-lettered with its reason.')
@minValue(1)
@maxValue(2000)
param maxDeliveryCount int

@description('Peek-lock duration (ISO 8601, at most PT5M). The Functions host renews the lock while a handler runs (host.json maxAutoLockRenewalDuration).')
param lockDuration string

@description('How long an unreceived message lives before it is dead-lettered.')
param messageTimeToLive string

@description('Window in which a second message with the same MessageId is dropped.')
param duplicateDetectionWindow string

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  // Standard: duplicate detection needs it (Basic has none).
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    // Entra ID only: the app connects with its identity, so no SAS key exists to leak.
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource handlerQueues 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [for queue in queues: {
  parent: namespace
  name: queue
  properties: {
    maxDeliveryCount: maxDeliveryCount
    lockDuration: lockDuration
    deadLetteringOnMessageExpiration: true
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
    defaultMessageTimeToLive: messageTimeToLive
    requiresSession: false
    enableBatchedOperations: true
    maxSizeInMegabytes: 1024
  }
}]

output id string = namespace.id
output name string = namespace.name
// https://<name>.servicebus.windows.net:443/ -> <name>.servicebus.windows.net
output fullyQualifiedNamespace string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
