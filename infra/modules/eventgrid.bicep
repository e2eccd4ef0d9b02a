// The Event Grid subscription that drives the specs blob trigger
// (functions/spec_dropped.py: blob_trigger(path="specs/{name}", source="EventGrid")).
//
// Deployed only on deploy.sh's second pass, after the code is published: the webhook
// needs the host's `blobs_extension` system key, which the host creates when it first
// loads the blob extension, and Event Grid validates the endpoint when the subscription
// is created, which only a running blob trigger can answer.

param location string
param tags object = {}
param systemTopicName string
param storageAccountName string
param functionAppName string

@description('Name of the blob-triggered function (the Python function name in the v2 model).')
param functionName string

param containerName string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource host 'Microsoft.Web/sites/host@2024-04-01' existing = {
  parent: site
  name: 'default'
}

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: systemTopicName
  location: location
  tags: tags
  properties: {
    source: storage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

resource specsCreated 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: topic
  name: 'specs-blob-created'
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        // The documented endpoint of the Event Grid-based blob trigger, keyed with the
        // host's blobs_extension system key (read at deploy time, never stored).
        endpointUrl: 'https://${site.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.${functionName}&code=${host.listKeys().systemKeys.blobs_extension}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      subjectBeginsWith: '/blobServices/default/containers/${containerName}/blobs/'
      // Only spec files wake the function: the code folders beside them, and the
      // <name>.error.json it writes itself, are ignored by the handler anyway.
      advancedFilters: [
        {
          operatorType: 'StringEndsWith'
          key: 'subject'
          values: [
            '.yml'
            '.yaml'
          ]
        }
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

output systemTopicName string = topic.name
output subscriptionName string = specsCreated.name
