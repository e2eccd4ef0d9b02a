"""The adapters the contract tests run against: each test runs once per adapter.

"local" is the embedded twin; "azurite" is the Azure adapter on Azurite, started once per
session. Tests that only make sense in Azure ask for `azure_only`.
"""
from __future__ import annotations

import uuid

import pytest

from shared.adapters.local_blob import LocalBlobStore
from shared.adapters.sqlite_registry import SqliteRegistry
from tests.contract import azurite as emulator

ADAPTERS = ["local", "azurite"]


@pytest.fixture(scope="session")
def azurite():
    yield from emulator.for_session()


@pytest.fixture(params=ADAPTERS)
def adapter(request) -> str:
    return request.param


@pytest.fixture
def azure_only(adapter):
    if adapter != "azurite":
        pytest.skip("an Azure Storage feature; the local twin has no equivalent")


@pytest.fixture
def blobs(adapter, request, tmp_path):
    if adapter == "local":
        yield LocalBlobStore(tmp_path / "blobs")
        return
    from shared.adapters.azure_blob import AzureBlobStore

    store = AzureBlobStore.from_connection_string(request.getfixturevalue("azurite")
                                                  .connection_string)
    yield store
    # Tests name real containers ("runs", "models"): empty the emulator for the next one.
    for container in store.service.list_containers():
        store.service.delete_container(container.name)


@pytest.fixture
def open_registry(adapter, request, tmp_path):
    """Opens another registry on the same store, as a second host would."""
    if adapter == "local":
        return lambda: SqliteRegistry(tmp_path / "registry.sqlite")
    from shared.adapters.table_registry import TableRegistry

    connection_string = request.getfixturevalue("azurite").connection_string
    table = f"t{uuid.uuid4().hex[:12]}"  # a fresh table for each test
    return lambda: TableRegistry.from_connection_string(connection_string, table=table)


@pytest.fixture
def registry(open_registry):
    return open_registry()
