"""data-register and model-register: idempotent on duplicates, lineage kept,
permanent errors raised as such."""
import pytest

from shared.domain.errors import PermanentError
from shared.domain.messages import Envelope, RegisterData, RegisterModel
from shared.handlers.intake_assets import submit_data
from shared.handlers.registry import handle
from shared.ports import Record
from shared.specs.types import DataSpec


def deliver(container, envelope):
    handle(envelope.queue, envelope.to_json(), container.ports())


def events_of(container, type_name):
    return [e for e in container.bus.events() if e.type == type_name]


class TestRegisterData:
    def submit(self, container, tmp_path, key="k1"):
        folder = tmp_path / "digits"
        folder.mkdir(exist_ok=True)
        (folder / "train.csv").write_text("a,b\n1,2\n")
        spec = DataSpec(source=tmp_path / "d.yml", name="digits", version=None,
                        type="uri_folder", path=folder)
        p = container.ports()
        return submit_data(spec, key=key, blobs=p["blobs"], registry=p["registry"],
                           bus=p["bus"], clock=p["clock"])

    def test_registration_copies_and_fingerprints_the_files(self, container, tmp_path):
        body = self.submit(container, tmp_path)
        assert body["state"] == "Registering" and body["version"] == "1"
        received = container.bus.receive("data-register")
        deliver(container, received.envelope)
        data = container.registry.get("data", "digits", "1").body
        assert data["state"] == "Registered"
        assert data["path"] == "datasets/digits/1"
        assert container.blobs.get("datasets/digits/1/train.csv") == b"a,b\n1,2\n"
        assert len(data["fingerprint"]) == 64

    def test_a_duplicate_message_changes_nothing(self, container, tmp_path):
        self.submit(container, tmp_path)
        envelope = container.bus.receive("data-register").envelope
        deliver(container, envelope)
        first = container.registry.get("data", "digits", "1")
        deliver(container, envelope)
        assert container.registry.get("data", "digits", "1").etag == first.etag
        assert len(events_of(container, "DataRegistered")) == 1
        assert [r.version for r in container.registry.list("data", "digits")] == ["1"]

    def test_the_same_submission_twice_makes_one_version(self, container, tmp_path):
        self.submit(container, tmp_path, key="same")
        self.submit(container, tmp_path, key="same")
        assert [r.version for r in container.registry.list("data", "digits")] == ["1"]
        self.submit(container, tmp_path, key="other")
        assert [r.version for r in container.registry.list("data", "digits")] == ["1", "2"]


class TestRegisterModel:
    def test_a_model_from_a_run_keeps_its_lineage(self, container):
        container.blobs.put("runs/r1/outputs/model/model.pkl", b"pickle")
        container.registry.put(Record("run", "r1", "", {
            "name": "r1", "inputs": {"d": {"kind": "folder", "asset": "digits:3"}}}))
        envelope = Envelope(RegisterModel(name="m", source="runs/r1/outputs/model",
                                          run_id="r1", framework="ScikitLearn"))
        deliver(container, envelope)
        deliver(container, envelope)  # duplicate: same version, nothing new
        versions = container.registry.list("model", "m")
        assert [v.version for v in versions] == ["1"]
        model = versions[0].body
        assert model["state"] == "Registered"
        assert model["lineage"] == {"run": "r1", "data": ["digits:3"]}
        assert container.blobs.get("models/m/1/model.pkl") == b"pickle"
        assert len(events_of(container, "ModelRegistered")) == 1

    def test_two_registrations_get_two_versions(self, container):
        container.blobs.put("uploads/x/model.pkl", b"p")
        for _ in range(2):
            deliver(container, Envelope(RegisterModel(name="m", source="uploads/x/model.pkl")))
        assert [v.version for v in container.registry.list("model", "m")] == ["1", "2"]

    def test_missing_files_are_a_permanent_error_recorded_on_the_model(self, container):
        with pytest.raises(PermanentError, match="does not exist"):
            deliver(container, Envelope(RegisterModel(name="m", source="runs/none/outputs/x")))
        assert container.registry.get("model", "m", "1").body["state"] == "Failed"


def test_a_message_on_the_wrong_queue_is_refused(container):
    envelope = Envelope(RegisterModel(name="m", source="x"))
    with pytest.raises(PermanentError, match="does not belong"):
        handle("deploy", envelope.to_json(), container.ports())


def test_a_malformed_body_is_a_permanent_error(container):
    with pytest.raises(PermanentError, match="malformed"):
        handle("deploy", b"{not json", container.ports())
