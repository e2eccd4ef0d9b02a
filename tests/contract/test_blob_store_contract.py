"""The BlobStore contract: LocalBlobStore and AzureBlobStore (on Azurite) behave alike."""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobClient, ContainerClient

from shared.domain.errors import NotFound, PermanentError

LARGE = 9 * 1024 * 1024 + 123  # more than two 4 MiB blocks, and a ragged last one


def large_data() -> bytes:
    return bytes(range(256)) * (LARGE // 256) + b"x" * (LARGE % 256)


class TestFiles:
    def test_a_blob_reads_back_what_was_put(self, blobs):
        blobs.put("runs/r1/outputs/a.txt", b"alpha")
        assert blobs.get("runs/r1/outputs/a.txt") == b"alpha"
        assert blobs.exists("runs/r1/outputs/a.txt")

    def test_a_put_replaces_the_whole_blob(self, blobs):
        blobs.put("models/m/1/model.pkl", b"old and longer")
        blobs.put("models/m/1/model.pkl", b"new")
        assert blobs.get("models/m/1/model.pkl") == b"new"

    def test_an_empty_blob_is_still_a_blob(self, blobs):
        blobs.put("specs/empty.yml", b"")
        assert blobs.exists("specs/empty.yml")
        assert blobs.get("specs/empty.yml") == b""

    def test_a_missing_blob_is_not_found(self, blobs):
        with pytest.raises(NotFound):
            blobs.get("models/none/1/model.pkl")
        assert not blobs.exists("models/none/1/model.pkl")

    def test_a_folder_is_not_a_blob(self, blobs):
        blobs.put("runs/r1/outputs/a.txt", b"a")
        assert not blobs.exists("runs/r1/outputs")
        assert not blobs.exists("runs")
        with pytest.raises(NotFound):
            blobs.get("runs/r1/outputs")
        with pytest.raises(NotFound):
            blobs.get("runs")

    def test_delete_removes_one_blob_and_ignores_a_missing_one(self, blobs):
        blobs.put("runs/r1/a.txt", b"a")
        blobs.put("runs/r1/b.txt", b"b")
        blobs.delete("runs/r1/a.txt")
        blobs.delete("runs/r1/never.txt")
        assert blobs.list("runs/r1") == ["runs/r1/b.txt"]

    def test_paths_cannot_escape_their_container(self, blobs):
        with pytest.raises(PermanentError):
            blobs.put("runs/../../etc/passwd", b"x")

    def test_a_large_blob_round_trips(self, blobs, tmp_path):
        data = large_data()
        blobs.put("datasets/big/1/data.bin", data)
        assert blobs.get("datasets/big/1/data.bin") == data
        (tmp_path / "src").mkdir()
        (tmp_path / "src" / "data.bin").write_bytes(data)
        blobs.upload_dir(tmp_path / "src", "datasets/big/2")
        blobs.download("datasets/big/2/data.bin", tmp_path / "copy.bin")
        assert (tmp_path / "copy.bin").read_bytes() == data


class TestListing:
    def test_list_is_recursive_and_sorted(self, blobs):
        for name in ("runs/r1/outputs/z.txt", "runs/r1/logs/a.txt", "runs/r1/outputs/sub/b.txt"):
            blobs.put(name, b".")
        assert blobs.list("runs/r1") == ["runs/r1/logs/a.txt", "runs/r1/outputs/sub/b.txt",
                                         "runs/r1/outputs/z.txt"]

    def test_a_prefix_stops_at_folder_boundaries(self, blobs):
        blobs.put("runs/r1/a.txt", b"1")
        blobs.put("runs/r10/a.txt", b"10")
        assert blobs.list("runs/r1") == ["runs/r1/a.txt"]
        assert blobs.list("runs/r1/") == ["runs/r1/a.txt"]

    def test_a_whole_container_can_be_listed(self, blobs):
        blobs.put("specs/a.yml", b"a")
        blobs.put("specs/sub/b.yml", b"b")
        assert blobs.list("specs") == ["specs/a.yml", "specs/sub/b.yml"]

    def test_listing_a_file_lists_that_file(self, blobs):
        blobs.put("models/m/1/model.onnx", b"onnx")
        assert blobs.list("models/m/1/model.onnx") == ["models/m/1/model.onnx"]

    def test_listing_nothing_is_empty(self, blobs):
        assert blobs.list("runs/none") == []
        assert blobs.list("nocontainer/x") == []


class TestFolders:
    def test_a_folder_uploads_and_downloads_with_its_tree(self, blobs, tmp_path):
        src = tmp_path / "src"
        (src / "sub").mkdir(parents=True)
        (src / "a.csv").write_text("1")
        (src / "sub" / "b.csv").write_text("2")
        blobs.upload_dir(src, "datasets/d/1")
        assert blobs.list("datasets/d/1") == ["datasets/d/1/a.csv", "datasets/d/1/sub/b.csv"]
        blobs.download("datasets/d/1", tmp_path / "out")
        assert (tmp_path / "out" / "a.csv").read_text() == "1"
        assert (tmp_path / "out" / "sub" / "b.csv").read_text() == "2"

    def test_a_single_file_downloads_to_the_given_path(self, blobs, tmp_path):
        blobs.put("datasets/d/1/a.csv", b"1")
        blobs.download("datasets/d/1/a.csv", tmp_path / "deep" / "one.csv")
        assert (tmp_path / "deep" / "one.csv").read_bytes() == b"1"

    def test_downloading_nothing_is_not_found(self, blobs, tmp_path):
        with pytest.raises(NotFound):
            blobs.download("datasets/none/1", tmp_path / "out")


class TestAzureOnly:
    def test_a_large_blob_is_committed_in_4_mib_blocks(self, blobs, azure_only):
        blobs.put("datasets/big/1/data.bin", large_data())
        committed, _ = blobs.service.get_blob_client("datasets", "big/1/data.bin").get_block_list()
        assert [b.size for b in committed] == [4 * 1024 * 1024, 4 * 1024 * 1024,
                                               LARGE - 8 * 1024 * 1024]

    def test_a_cloud_blob_has_no_local_path(self, blobs, azure_only):
        blobs.put("specs/a.yml", b"a")
        assert blobs.local_path("specs/a.yml") is None


class TestSas:
    def test_a_read_only_sas_reads_but_cannot_write(self, blobs, azure_only):
        blobs.put("datasets/d/1/a.csv", b"inputs")
        reader = BlobClient.from_blob_url(blobs.sas_url("datasets/d/1/a.csv", write=False,
                                                        ttl_s=600))
        assert reader.download_blob().readall() == b"inputs"
        with pytest.raises(HttpResponseError) as refused:
            reader.upload_blob(b"tampered", overwrite=True)
        assert refused.value.status_code == 403
        assert blobs.get("datasets/d/1/a.csv") == b"inputs"

    def test_a_write_only_sas_writes_but_cannot_read(self, blobs, azure_only):
        blobs.put("runs/r1/outputs/keep.txt", b"")  # the container exists before the run
        writer = BlobClient.from_blob_url(blobs.sas_url("runs/r1/outputs/model.pkl", write=True,
                                                        ttl_s=600))
        writer.upload_blob(b"weights")
        assert blobs.get("runs/r1/outputs/model.pkl") == b"weights"
        with pytest.raises(HttpResponseError) as refused:
            writer.download_blob().readall()
        assert refused.value.status_code == 403

    def test_a_container_sas_for_outputs_uploads_but_cannot_list_or_read(self, blobs,
                                                                          azure_only):
        blobs.put("runs/r0/outputs/other.txt", b"someone else's")
        container = ContainerClient.from_container_url(blobs.sas_url("runs", write=True,
                                                                     ttl_s=600))
        container.upload_blob("r1/outputs/metrics.json", b"{}")
        assert blobs.get("runs/r1/outputs/metrics.json") == b"{}"
        with pytest.raises(HttpResponseError):
            list(container.list_blobs())
        with pytest.raises(HttpResponseError):
            container.download_blob("r0/outputs/other.txt").readall()

    def test_a_container_sas_for_inputs_lists_and_reads(self, blobs, azure_only):
        blobs.put("datasets/d/1/a.csv", b"1")
        container = ContainerClient.from_container_url(blobs.sas_url("datasets", write=False,
                                                                     ttl_s=600))
        assert [b.name for b in container.list_blobs()] == ["d/1/a.csv"]
        assert container.download_blob("d/1/a.csv").readall() == b"1"
        with pytest.raises(HttpResponseError):
            container.upload_blob("d/1/b.csv", b"2")

    def test_a_sas_lives_for_its_ttl_plus_the_clock_skew_allowance(self, blobs, azure_only):
        query = parse_qs(urlsplit(blobs.sas_url("specs/a.yml", write=False, ttl_s=900)).query)
        start, expiry = (datetime.fromisoformat(query[k][0].replace("Z", "+00:00"))
                         for k in ("st", "se"))
        assert expiry - start == timedelta(seconds=900 + 300)
        assert query["sp"] == ["r"]

    def test_a_sas_longer_than_seven_days_is_refused(self, blobs, azure_only):
        with pytest.raises(PermanentError):
            blobs.sas_url("specs/a.yml", write=False, ttl_s=8 * 24 * 3600)
