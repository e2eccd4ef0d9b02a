"""The exceptions of HyperDrive (`azureml.train.hyperdrive.exceptions`), by v1's names."""
from azureml.exceptions import AzureMLException, UserErrorException


class HyperDriveException(AzureMLException):
    """Something HyperDrive was asked failed."""


class HyperDriveConfigException(UserErrorException, HyperDriveException):
    """A HyperDriveConfig, sampling or policy that cannot be run as given."""


class HyperDriveScenarioNotSupportedException(HyperDriveConfigException):
    """A combination v1 refused too (an early termination policy with Bayesian sampling)."""


__all__ = ["HyperDriveConfigException", "HyperDriveException",
           "HyperDriveScenarioNotSupportedException"]
