"""Azure ML's SDK v1 training names (`azureml.train`): the estimators, deprecated in v1
itself and run here as the ScriptRunConfig each one stands for. `azureml.train.hyperdrive`
is not provided yet: it comes with mlcycle's sweep jobs."""
