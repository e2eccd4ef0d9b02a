"""What a run inherits from the host's environment: everything but its secrets.

The host holds the API key and, in development, connection strings (Azurite, a Service
Bus namespace); a training script runs user code and writes its environment into logs
that anyone with the key can read, so none of that may reach it."""
from __future__ import annotations

import re
from typing import Mapping

# The host's own secret-bearing settings, by name.
SECRET_NAMES = frozenset({
    "MLCYCLE_KEY", "AzureWebJobsStorage", "ServiceBusConnection",
    "MLCYCLE_STORAGE_CONNECTION_STRING", "MLCYCLE_SERVICEBUS_CONNECTION_STRING",
    "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "IDENTITY_HEADER",
    "MSI_SECRET", "AZURE_STORAGE_KEY", "AZURE_STORAGE_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
})
# Any other variable that carries a connection string or a key-bearing URL.
SECRET_VALUE = re.compile(
    r"(AccountKey|SharedAccessKey|SharedAccessSignature)\s*=|Endpoint\s*=\s*sb://|[?&]sig\s*=",
    re.IGNORECASE)


def without_secrets(env: Mapping[str, str]) -> dict[str, str]:
    """env less the variables that name or hold a secret."""
    return {name: value for name, value in env.items()
            if name not in SECRET_NAMES and "CONNECTION_STRING" not in name.upper()
            and not SECRET_VALUE.search(value)}
