"""bootstrap() in Azure mode: which settings choose it, and the adapters it wires."""
from __future__ import annotations

import pytest

from shared.bootstrap import bootstrap
from shared.ports import Record
from shared.settings import Settings

DEPLOYED = {"MLCYCLE_MODE": "azure", "MLCYCLE_STORAGE_ACCOUNT": "mlcyclestore",
            "MLCYCLE_SERVICEBUS_NAMESPACE": "mlcycle-bus.servicebus.windows.net"}


class TestChoosingTheMode:
    def test_nothing_set_is_the_embedded_default(self):
        assert Settings.from_env({}).mode == "local"

    def test_functions_host_storage_alone_stays_local(self):
        assert Settings.from_env({"AzureWebJobsStorage": "UseDevelopmentStorage=true"}).mode \
            == "local"

    def test_a_service_bus_connection_means_azure(self):
        settings = Settings.from_env({
            "ServiceBusConnection__fullyQualifiedNamespace": "ns.servicebus.windows.net",
            "AzureWebJobsStorage__accountName": "store"})
        assert settings.mode == "azure"
        assert settings.azure.servicebus_namespace == "ns.servicebus.windows.net"
        assert settings.azure.blob_url == "https://store.blob.core.windows.net"
        assert settings.azure.table_url == "https://store.table.core.windows.net"

    def test_mlcycle_mode_wins(self):
        assert Settings.from_env({**DEPLOYED, "MLCYCLE_MODE": "local"}).mode == "local"

    def test_mlcyles_own_settings_come_before_the_hosts(self):
        azure = Settings.from_env({**DEPLOYED, "AzureWebJobsStorage__accountName": "other",
                                   "MLCYCLE_REGISTRY_TABLE": "records"}).azure
        assert (azure.storage_account, azure.registry_table) == ("mlcyclestore", "records")

    def test_connection_strings_stay_out_of_repr(self):
        settings = Settings.from_env({**DEPLOYED, "AzureWebJobsStorage": "AccountName=a;Account"
                                      "Key=not-a-real-key", "ServiceBusConnection": "Endpoint=x"})
        assert settings.azure.storage_connection_string
        assert "not-a-real-key" not in repr(settings)
        assert "Endpoint=x" not in repr(settings)


class TestWiring:
    def test_azure_mode_without_storage_or_service_bus_names_what_is_missing(self, tmp_path):
        with pytest.raises(ValueError, match="MLCYCLE_STORAGE_ACCOUNT.*MLCYCLE_SERVICEBUS"):
            bootstrap(Settings(tmp_path, mode="azure"))

    def test_an_unknown_mode_is_refused(self, tmp_path):
        with pytest.raises(ValueError, match="'local' or 'azure'"):
            bootstrap(Settings(tmp_path, mode="cloud"))

    def test_identity_based_settings_build_clients_that_have_not_connected(self, tmp_path):
        container = bootstrap(Settings.from_env({**DEPLOYED, "MLCYCLE_DATA_ROOT": str(tmp_path)}))
        assert container.blobs.service.url == "https://mlcyclestore.blob.core.windows.net/"
        assert container.registry.table.table_name == "registry"
        assert container.bus.events_topic is None
        assert not (tmp_path / "bus.sqlite").exists()

    def test_the_azure_compute_is_batch(self, tmp_path):
        container = bootstrap(Settings.from_env(DEPLOYED))
        assert type(container.compute).__name__ == "BatchCompute"
        assert container.forwards_failures  # the Functions host settles, triggers forward

    def test_batch_pool_defaults_come_from_app_settings(self):
        compute = bootstrap(Settings.from_env({
            **DEPLOYED, "MLCYCLE_BATCH_VM_SIZE": "Standard_NC24ads_A100_v4",
            "MLCYCLE_BATCH_IMAGE": "microsoft-dsvm:ubuntu-hpc:2204:24.01.01",
            "MLCYCLE_BATCH_NODE_AGENT_SKU": "batch.node.ubuntu 22.04",
            "MLCYCLE_BATCH_DEFAULT_IMAGE": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04",
            "MLCYCLE_BATCH_CONTAINER_IMAGES": "img/a:1, img/b:2"})).compute
        defaults = compute.defaults
        assert defaults.vm_size == "Standard_NC24ads_A100_v4"
        assert defaults.image == {"publisher": "microsoft-dsvm", "offer": "ubuntu-hpc",
                                  "sku": "2204", "version": "24.01.01"}
        assert defaults.default_image == "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04"
        assert defaults.container_images == ("img/a:1", "img/b:2")

    def test_unset_batch_settings_keep_the_adapters_defaults(self):
        from shared.adapters.batch_pools import PoolDefaults

        assert bootstrap(Settings.from_env(DEPLOYED)).compute.defaults == PoolDefaults()

    def test_a_malformed_batch_image_is_named(self):
        with pytest.raises(ValueError, match="MLCYCLE_BATCH_IMAGE 'ubuntu' is not publisher"):
            bootstrap(Settings.from_env({**DEPLOYED, "MLCYCLE_BATCH_IMAGE": "ubuntu"}))

    def test_storage_through_the_wired_adapters_reaches_azurite(self, azurite, tmp_path):
        container = bootstrap(Settings.from_env({
            **DEPLOYED, "MLCYCLE_STORAGE_CONNECTION_STRING": azurite.connection_string,
            "MLCYCLE_REGISTRY_TABLE": "bootstraptest"}))
        container.blobs.put("specs/job.yml", b"command: echo")
        assert container.blobs.get("specs/job.yml") == b"command: echo"
        container.registry.put(Record("run", "r1", "", {"status": "Queued"}))
        assert container.registry.get("run", "r1").body == {"status": "Queued"}
