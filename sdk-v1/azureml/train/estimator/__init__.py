"""`azureml.train.estimator`: the generic Estimator of SDK v1."""
from azureml.train._estimator import MMLBaseEstimator


class Estimator(MMLBaseEstimator):
    """A training script on an environment made of its packages (see MMLBaseEstimator);
    deprecated in v1, run here as a ScriptRunConfig."""


__all__ = ["Estimator", "MMLBaseEstimator"]
