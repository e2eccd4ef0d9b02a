"""What a run inherits from the host's environment: everything but its secrets.

The host holds the API key and, in development, connection strings (Azurite, a Service
Bus namespace); a training script runs user code and writes its environment into logs
that anyone with the key can read, so none of that may reach it."""
from __future__ import annotations

import os
import re
from typing import Mapping

# The host's own secret-bearing settings, by name.
SECRET_NAMES = frozenset({
    "MLCYCLE_KEY", "MLCYCLE_API_KEY", "AzureWebJobsStorage", "ServiceBusConnection",
    "MLCYCLE_STORAGE_CONNECTION_STRING", "MLCYCLE_SERVICEBUS_CONNECTION_STRING",
    "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "IDENTITY_HEADER",
    "MSI_SECRET", "AZURE_STORAGE_KEY", "AZURE_STORAGE_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
})
# Where the host keeps its secrets: config.json with the key, the TLS key. A job runs
# user code; it is not told where they are.
SECRET_PLACES = frozenset({"MLCYCLE_HOME", "MLCYCLE_CONFIG"})
# Any other variable that carries a connection string or a key-bearing URL.
SECRET_VALUE = re.compile(
    r"(AccountKey|SharedAccessKey|SharedAccessSignature)\s*=|Endpoint\s*=\s*sb://|[?&]sig\s*=",
    re.IGNORECASE)


def without_secrets(env: Mapping[str, str]) -> dict[str, str]:
    """env less the variables that name or hold a secret, or say where one is kept."""
    return {name: value for name, value in env.items()
            if name not in SECRET_NAMES | SECRET_PLACES
            and "CONNECTION_STRING" not in name.upper()
            and not SECRET_VALUE.search(value)}


def on_interpreter(env: Mapping[str, str], python: str, venv: bool) -> dict[str, str]:
    """env for processes whose `python` (and `pip`) is python: its folder first on PATH,
    and, for a venv, VIRTUAL_ENV naming it, as its activate script would. What the
    service's own interpreter was started with (an activated venv, a PYTHONHOME) must
    not lead an installer to the service's packages."""
    env = dict(env)
    env["PATH"] = os.pathsep.join([os.path.dirname(python), env.get("PATH", "")])
    if venv:
        for name in ("PYTHONHOME", "__PYVENV_LAUNCHER__"):
            env.pop(name, None)
        env["VIRTUAL_ENV"] = os.path.dirname(os.path.dirname(python))
    return env
