"""The SDK door's Blob API subset, on the local twins: signatures, blocks, ranges,
listings, metadata, and refusals that name the problem."""
import base64
import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from shared.adapters.local_blob import LocalBlobStore
from shared.adapters.sqlite_registry import SqliteRegistry
from shared.arm.call import Call, Unauthorized
from shared.arm.sas import LIST, READ, WRITE, sign, verify
from shared.arm.storage import serve
from shared.settings import Settings
from urllib.parse import parse_qsl

KEY = "test-key"


@pytest.fixture
def ports(tmp_path):
    return {"blobs": LocalBlobStore(tmp_path / "blobs"),
            "registry": SqliteRegistry(tmp_path / "registry.sqlite"),
            "settings": Settings(tmp_path, api_key=KEY), "compute": None}


def signed(container: str, permissions: str = READ + WRITE + LIST) -> dict:
    return dict(parse_qsl(sign(KEY, container, permissions)))


def call(method: str, path: str, *, query=None, headers=None, body=b"",
         container="workspaceblobstore", permissions=READ + WRITE + LIST):
    query = {**signed(container, permissions), **(query or {})}
    return Call(method, path, query=query, headers=headers or {}, body=body,
                base="https://127.0.0.1:1")


class TestSignatures:
    def test_a_signature_is_for_one_container_and_its_permissions(self):
        query = signed("workspaceblobstore", READ)
        verify(KEY, "workspaceblobstore", READ, query)
        with pytest.raises(Unauthorized, match="does not match"):
            verify(KEY, "pu-" + "0" * 32, READ, query)
        with pytest.raises(Unauthorized, match="does not allow"):
            verify(KEY, "workspaceblobstore", WRITE, query)
        with pytest.raises(Unauthorized, match="does not match"):
            verify("another-key", "workspaceblobstore", READ, query)

    def test_an_expired_signature_is_refused(self):
        query = dict(parse_qsl(sign(KEY, "c", READ, now=datetime.now(timezone.utc)
                                    - timedelta(days=2))))
        with pytest.raises(Unauthorized, match="expired"):
            verify(KEY, "c", READ, query)


class TestBlobs:
    def test_a_put_blob_is_read_back_whole_in_ranges_and_by_head(self, ports):
        data = bytes(range(256)) * 10
        put = serve(call("PUT", "x", headers={"x-ms-blob-type": "BlockBlob"}, body=data),
                    ports, "workspaceblobstore/a/b.bin")
        assert put.status == 201
        whole = serve(call("GET", "x"), ports, "workspaceblobstore/a/b.bin")
        assert whole.status == 200 and whole.body == data
        part = serve(call("GET", "x", headers={"x-ms-range": "bytes=10-19"}), ports,
                     "workspaceblobstore/a/b.bin")
        assert (part.status, part.body) == (206, data[10:20])
        assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
        head = serve(call("HEAD", "x"), ports, "workspaceblobstore/a/b.bin")
        assert head.headers["Content-Length"] == str(len(data))

    def test_blocks_become_the_blob_only_when_their_list_is_committed(self, ports):
        ids = [base64.b64encode(f"block-{i}".encode()).decode() for i in range(3)]
        for i, block in enumerate(ids):
            staged = serve(call("PUT", "x", query={"comp": "block", "blockid": block},
                                body=f"part{i};".encode()), ports, "workspaceblobstore/big")
            assert staged.status == 201
        assert not ports["blobs"].exists("workspaceblobstore/big")
        listing = "".join(f"<Latest>{b}</Latest>" for b in reversed(ids))
        committed = serve(call("PUT", "x", query={"comp": "blocklist"},
                               body=f"<BlockList>{listing}</BlockList>".encode()),
                          ports, "workspaceblobstore/big")
        assert committed.status == 201
        assert ports["blobs"].get("workspaceblobstore/big") == b"part2;part1;part0;"
        assert ports["blobs"].list("staging") == []

    def test_a_block_list_naming_a_block_never_staged_is_refused(self, ports):
        block = base64.b64encode(b"never").decode()
        answer = serve(call("PUT", "x", query={"comp": "blocklist"},
                            body=f"<BlockList><Latest>{block}</Latest></BlockList>".encode()),
                       ports, "workspaceblobstore/big")
        assert answer.status == 404 and answer.headers["x-ms-error-code"] == "BlobNotFound"

    def test_a_damaged_upload_is_refused_by_its_md5(self, ports):
        wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
        answer = serve(call("PUT", "x", headers={"content-md5": wrong}, body=b"data"),
                       ports, "workspaceblobstore/f")
        assert answer.status == 400 and b"Content-MD5" in answer.body
        assert not ports["blobs"].exists("workspaceblobstore/f")

    def test_metadata_is_kept_and_listed(self, ports):
        serve(call("PUT", "x", body=b"1"), ports, "workspaceblobstore/up/a.txt")
        serve(call("PUT", "x", query={"comp": "metadata"},
                   headers={"x-ms-meta-upload_status": "completed"}),
              ports, "workspaceblobstore/up/a.txt")
        head = serve(call("HEAD", "x"), ports, "workspaceblobstore/up/a.txt")
        assert head.headers["x-ms-meta-upload_status"] == "completed"
        listed = serve(call("GET", "x", query={"restype": "container", "comp": "list",
                                               "prefix": "up/", "include": "metadata"}),
                       ports, "workspaceblobstore")
        assert b"<Name>up/a.txt</Name>" in listed.body
        assert b"<upload_status>completed</upload_status>" in listed.body

    def test_a_listing_with_a_delimiter_folds_folders_into_prefixes(self, ports):
        for name in ("d/x/1", "d/x/2", "d/y", "e"):
            serve(call("PUT", "x", body=b"."), ports, f"workspaceblobstore/{name}")
        listed = serve(call("GET", "x", query={"restype": "container", "comp": "list",
                                               "prefix": "d/", "delimiter": "/"}),
                       ports, "workspaceblobstore")
        assert b"<Name>d/y</Name>" in listed.body
        assert b"<BlobPrefix><Name>d/x/</Name></BlobPrefix>" in listed.body
        assert b"<Name>e</Name>" not in listed.body


class TestRefusals:
    def test_a_run_container_is_read_only(self, ports):
        answer = serve(call("PUT", "x", body=b"x", container="run-r1"), ports,
                       "run-r1/outputs/evil.txt")
        assert answer.status == 403 and b"read only" in answer.body

    def test_an_unknown_container_is_not_found(self, ports):
        answer = serve(call("GET", "x", container="models"), ports, "models/m/1/model.pkl")
        assert answer.status == 404 and answer.headers["x-ms-error-code"] == "ContainerNotFound"

    def test_a_path_that_climbs_out_is_refused(self, ports):
        answer = serve(call("PUT", "x", body=b"x"), ports, "workspaceblobstore/../specs/x.yml")
        assert answer.status == 400
        assert not ports["blobs"].exists("specs/x.yml")

    def test_without_a_signature_the_answer_is_the_common_401(self, ports):
        answer = serve(Call("GET", "x", query={}), ports, "workspaceblobstore/a")
        assert answer.status == 401
