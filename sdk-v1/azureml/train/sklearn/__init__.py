"""`azureml.train.sklearn`: the scikit-learn estimator of SDK v1."""
from azureml.train._estimator import MMLBaseEstimator


class SKLearn(MMLBaseEstimator):
    """A scikit-learn script on the curated scikit-learn environment."""

    _CURATED = "AzureML-Scikit-learn-{version}"
    _DEFAULT_VERSION = "0.20.3"


__all__ = ["SKLearn"]
