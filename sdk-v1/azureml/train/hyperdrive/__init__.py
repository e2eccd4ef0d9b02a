"""Azure ML SDK v1's HyperDrive (`azureml.train.hyperdrive`) on mlcycle's sweep jobs: a
HyperDriveConfig is submitted by `Experiment.submit` as an Azure ML v2 sweep job, whose
trials are ordinary runs on the compute target's pool; the policy acts on what trials log
with `Run.get_context().log` while they run. See docs/sdk-v1.md."""
from azureml.train.hyperdrive.exceptions import (HyperDriveConfigException,
                                                 HyperDriveException,
                                                 HyperDriveScenarioNotSupportedException)
from azureml.train.hyperdrive.parameter_expressions import (choice, lognormal, loguniform,
                                                            normal, qlognormal, qloguniform,
                                                            qnormal, quniform, randint,
                                                            uniform)
from azureml.train.hyperdrive.policy import (BanditPolicy, EarlyTerminationPolicy,
                                             MedianStoppingPolicy, NoTerminationPolicy,
                                             TruncationSelectionPolicy)
from azureml.train.hyperdrive.run import HyperDriveRun, PrimaryMetricGoal
from azureml.train.hyperdrive.runconfig import HyperDriveConfig, HyperDriveRunConfig
from azureml.train.hyperdrive.sampling import (BayesianParameterSampling,
                                               GridParameterSampling, HyperParameterSampling,
                                               RandomParameterSampling)

__all__ = ["BanditPolicy", "BayesianParameterSampling", "EarlyTerminationPolicy",
           "GridParameterSampling", "HyperDriveConfig", "HyperDriveConfigException",
           "HyperDriveException", "HyperDriveRun", "HyperDriveRunConfig",
           "HyperDriveScenarioNotSupportedException", "HyperParameterSampling",
           "MedianStoppingPolicy", "NoTerminationPolicy", "PrimaryMetricGoal",
           "RandomParameterSampling", "TruncationSelectionPolicy", "choice", "lognormal",
           "loguniform", "normal", "qlognormal", "qloguniform", "qnormal", "quniform",
           "randint", "uniform"]
