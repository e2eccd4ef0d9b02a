"""The exceptions of Azure ML's SDK v1 (`azureml.exceptions`), by the names the training
guides catch."""
from __future__ import annotations


class AzureMLException(Exception):
    """Base class of every error the SDK raises; `message` is its text."""

    def __init__(self, exception_message: str = "", **kwargs) -> None:
        super().__init__(exception_message)
        self.message = exception_message


class UserErrorException(AzureMLException):
    """The caller asked for something that cannot be done as asked."""


class ComputeTargetException(AzureMLException):
    """A compute target is missing, or could not be created or read."""


class WebserviceException(AzureMLException):
    """A web service (or a model behind one) is missing, failed, or refused a request."""


class ModelNotFoundException(WebserviceException):
    """No model of that name (and version) is registered."""


class ModelPathNotFoundException(UserErrorException):
    """`Run.register_model` named a path that the run did not upload."""


class ActivityFailedException(AzureMLException):
    """A run that was waited for ended Failed or Canceled."""


class ExperimentExecutionException(AzureMLException):
    """A run could not be submitted."""


class RunEnvironmentException(AzureMLException):
    """What was asked needs a run context (or a workspace) that is not there."""
