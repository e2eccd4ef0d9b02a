"""What `mlcycle up` leaves in $MLCYCLE_HOME for its clients: config.json (the CLI's
endpoint and key, and the workspace fields `MLClient.from_config` reads) and azureml.env
(the `export` lines that point azure-ai-ml at this host). Both readable by their owner
alone, both renamed into place so that a reader never sees half a file."""
from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

from shared.arm.cloud import CLOUD_NAME
from shared.localhost.tls import TlsFiles
from shared.private_files import private_dir
from shared.settings import mlcycle_home

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
RESOURCE_GROUP = "mlcycle"


def write_config(url: str, key: str, home: Path | None = None, *,
                 workspace: str = "mlcycle") -> Path:
    """$MLCYCLE_HOME/config.json: {"endpoint", "key", "subscription_id",
    "resource_group", "workspace_name"}."""
    home = home or mlcycle_home()
    body = {"endpoint": url, "key": key, "subscription_id": SUBSCRIPTION,
            "resource_group": RESOURCE_GROUP, "workspace_name": workspace}
    return _write_private(home, "config.json", json.dumps(body, indent=2) + "\n")


def write_sdk_env(tls_url: str, tls: TlsFiles, home: Path | None = None) -> Path:
    """$MLCYCLE_HOME/azureml.env: once sourced, azure-ai-ml reads this host's cloud
    metadata (ARM_CLOUD_METADATA_URL, AZUREML_CURRENT_CLOUD) and trusts its certificate
    beside the system's (REQUESTS_CA_BUNDLE, SSL_CERT_FILE)."""
    home = home or mlcycle_home()
    lines = {
        "ARM_CLOUD_METADATA_URL": f"{tls_url}/api/arm/metadata/endpoints",
        "AZUREML_CURRENT_CLOUD": CLOUD_NAME,
        "REQUESTS_CA_BUNDLE": str(tls.bundle),
        "SSL_CERT_FILE": str(tls.bundle),
        "MLCYCLE_CONFIG": str(home / "config.json"),
    }
    text = "# azure-ai-ml against mlcycle: `source` this file.\n" + "".join(
        f"export {name}={shlex.quote(value)}\n" for name, value in lines.items())
    return _write_private(home, "azureml.env", text)


def _write_private(home: Path, name: str, text: str) -> Path:
    private_dir(home)
    path = home / name
    partial = home / f".{name}.{os.getpid()}.tmp"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(partial, 0o600)
    os.replace(partial, path)
    return path
