"""Azure ML's SDK v1 training names (`azureml.train`): the estimators, deprecated in v1
itself and run here as the ScriptRunConfig each one stands for, and HyperDrive
(`azureml.train.hyperdrive`), run as mlcycle's sweep jobs."""
