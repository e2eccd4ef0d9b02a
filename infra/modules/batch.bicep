// The Azure Batch account that runs training. Pools are not declared here: mlcycle creates
// and resizes them itself (`mlcycle compute create`, the compute-scale handler).

@description('Batch account name: 3-24 lowercase letters and digits, unique in the region.')
@minLength(3)
@maxLength(24)
param name string

param location string
param tags object = {}

resource account 'Microsoft.Batch/batchAccounts@2024-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    // Nodes are allocated in Batch's own subscription: no VM quota or VNet of ours needed.
    poolAllocationMode: 'BatchService'
    // Entra ID only: the app calls Batch with its identity; the account keys are unusable.
    allowedAuthenticationModes: [
      'AAD'
    ]
    publicNetworkAccess: 'Enabled'
  }
}

output id string = account.id
output name string = account.name
output accountUrl string = 'https://${account.properties.accountEndpoint}'
