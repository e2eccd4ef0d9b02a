"""The door azure-ai-ml comes in by: Azure Resource Manager's shapes for Azure ML
(`/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/
workspaces/{ws}/...`), the cloud metadata and discovery documents the SDK reads first, run
history, and the subset of the Blob API its uploads use. It only translates: every
request ends at the same intake and handlers as mlcycle's own API (`shared/api`)."""
