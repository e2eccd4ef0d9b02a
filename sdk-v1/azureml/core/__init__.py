"""Azure ML's SDK v1 names (`azureml.core`), on mlcycle: a Workspace is an mlcycle host,
`Experiment.submit` posts an Azure ML v2 job to its /api, and `Run.get_context()` inside
a job logs to the run's history. See docs/sdk-v1.md."""
from azureml.core.compute_target import ComputeTarget
from azureml.core.conda_dependencies import CondaDependencies
from azureml.core.dataset import Dataset
from azureml.core.environment import Environment
from azureml.core.experiment import Experiment
from azureml.core.model import Model
from azureml.core.run import Run
from azureml.core.runconfig import RunConfiguration
from azureml.core.script_run_config import ScriptRunConfig
from azureml.core.webservice import Webservice
from azureml.core.workspace import Workspace

__all__ = ["ComputeTarget", "CondaDependencies", "Dataset", "Environment", "Experiment",
           "Model", "Run", "RunConfiguration", "ScriptRunConfig", "Webservice", "Workspace"]
