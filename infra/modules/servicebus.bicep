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

@description('The queue the triggers park their own dead letters in.')
param parkingQueueName string = 'dead-letters'

@description('The topic events with no queue are published to (MLCYCLE_EVENTS_TOPIC).')
param eventsTopicName string = 'events'

@description('How long the journal subscription keeps an event.')
param eventsTimeToLive string = 'P14D'

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

// Where the queue triggers park what they dead-letter themselves (a permanent error, or
// the last attempt), with mlcycle's reason: Python functions cannot dead-letter a message
// the host received (shared/adapters/servicebus_parking.py). Nothing consumes it; a
// parked message stays until `mlcycle dead-letter replay` or an operator removes it.
resource parkingQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: parkingQueueName
  properties: {
    maxDeliveryCount: maxDeliveryCount
    lockDuration: lockDuration
    deadLetteringOnMessageExpiration: false
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
    requiresSession: false
    maxSizeInMegabytes: 1024
  }
}

// Events with no queue (JobStarted, ModelDeployed, ...) for whoever subscribes; the
// `journal` subscription is what the bus adapter's `events` reads back.
resource eventsTopic 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' = {
  parent: namespace
  name: eventsTopicName
  properties: {
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
    defaultMessageTimeToLive: eventsTimeToLive
    maxSizeInMegabytes: 1024
  }
}

resource journal 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2024-01-01' = {
  parent: eventsTopic
  name: 'journal'
  properties: {
    maxDeliveryCount: maxDeliveryCount
    lockDuration: lockDuration
    defaultMessageTimeToLive: eventsTimeToLive
    deadLetteringOnMessageExpiration: false
  }
}

output id string = namespace.id
output name string = namespace.name
output eventsTopic string = eventsTopic.name
// https://<name>.servicebus.windows.net:443/ -> <name>.servicebus.windows.net
output fullyQualifiedNamespace string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
