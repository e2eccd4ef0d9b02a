"""A data spec's path: local files, files already in the workspace's datastore, and the
URLs this host refuses, each refusal saying what works instead."""
import pytest

from shared.domain.errors import InvalidSpec
from shared.handlers.intake_assets import submit_data
from shared.handlers.registry import handle
from shared.specs.types import DataSpec

IRIS = b"sepal_length,species\n5.1,0\n"


def submit(container, tmp_path, path, kind="uri_file", name="iris"):
    spec = DataSpec(source=tmp_path / "d.yml", name=name, version=None, type=kind, path=path)
    p = container.ports()
    return submit_data(spec, key=f"k-{name}", blobs=p["blobs"], registry=p["registry"],
                       bus=p["bus"], clock=p["clock"])


def register(container):
    received = container.bus.receive("data-register")
    handle(received.envelope.queue, received.envelope.to_json(), container.ports())


class TestDatastorePaths:
    def test_a_file_in_the_datastore_registers(self, container, tmp_path):
        container.blobs.put("workspaceblobstore/example-data/iris.csv", IRIS)

        submit(container, tmp_path,
               "azureml://datastores/workspaceblobstore/paths/example-data/iris.csv")
        register(container)

        data = container.registry.get("data", "iris", "1").body
        assert data["state"] == "Registered"
        assert container.blobs.get(data["path"]) == IRIS

    def test_a_folder_in_the_datastore_registers_with_its_files(self, container, tmp_path):
        container.blobs.put("workspaceblobstore/example-data/iris.csv", IRIS)
        container.blobs.put("workspaceblobstore/example-data/more/titanic.csv", b"x\n")

        submit(container, tmp_path,
               "azureml://datastores/workspaceblobstore/paths/example-data/", "uri_folder")
        register(container)

        data = container.registry.get("data", "iris", "1").body
        assert data["files"] == 2
        assert container.blobs.get(f"{data['path']}/more/titanic.csv") == b"x\n"

    def test_a_path_naming_nothing_is_refused_before_a_version_is_taken(self, container,
                                                                          tmp_path):
        with pytest.raises(InvalidSpec, match="nothing is stored at .*missing.csv"):
            submit(container, tmp_path,
                   "azureml://datastores/workspaceblobstore/paths/missing.csv")
        assert container.registry.list("data", "iris") == []

    def test_a_folder_given_as_a_uri_file_is_refused(self, container, tmp_path):
        container.blobs.put("workspaceblobstore/example-data/iris.csv", IRIS)
        with pytest.raises(InvalidSpec, match="is a folder, but the data is a uri_file"):
            submit(container, tmp_path,
                   "azureml://datastores/workspaceblobstore/paths/example-data")

    def test_another_datastore_is_named_as_missing(self, container, tmp_path):
        with pytest.raises(InvalidSpec, match="datastore 'mystore' does not exist"):
            submit(container, tmp_path, "azureml://datastores/mystore/paths/iris.csv")


class TestRefusedUrls:
    @pytest.mark.parametrize("url, says", [
        ("https://azuremlexamples.blob.core.windows.net/datasets/iris.csv",
         "does not download from the web; download the file"),
        ("wasbs://datasets@azuremlexamples.blob.core.windows.net/iris.csv",
         "only the workspace's own datastore"),
        ("file:///tmp/iris.csv", "which the CLI uploads"),
    ])
    def test_a_url_this_host_cannot_read_is_refused_saying_what_works(
            self, container, tmp_path, url, says):
        with pytest.raises(InvalidSpec) as refused:
            submit(container, tmp_path, url)
        assert says in str(refused.value)
        assert "azureml://datastores/workspaceblobstore/paths/<path>" in str(refused.value)
