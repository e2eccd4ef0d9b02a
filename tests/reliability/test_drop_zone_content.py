"""The drop zone remembers what it did by the content of a spec and of what the spec
names. Dropping the same spec again beside changed code runs the new code; the trigger
firing again for the same content changes nothing; and a refusal's error file never
appears before the refusal is on record (whoever reads the file, or a trigger firing
meanwhile, must find it there)."""
import json
import os
import shutil

from shared.adapters.local_blob import LocalBlobStore
from shared.handlers.spec_dropped import accept_dropped_spec, error_path
from tests.processes import wait_for
from tests.reliability.ledger import record
from tests.reliability.state import differences, local_world, snapshot

SPEC = ("$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
        "code: ./src\ncommand: python train.py\n"
        "environment: azureml:AzureML-sklearn-1.0@latest\n")


def runs(container) -> dict:
    return {r.name: r.body for r in container.registry.list("run")}


def printed_by_new_runs(host, before: dict, count: int) -> list[str]:
    """What each run not in `before` printed, once `count` such runs have finished and
    nothing is pending."""
    def finished():
        new = [b for name, b in runs(host.container).items() if name not in before]
        done = [b for b in new if b["status"] in ("Completed", "Failed")]
        return len(new) == count == len(done) and host.container.bus.pending() == 0
    wait_for(finished, within_s=180, what=f"{count} new runs finished")
    return sorted(host.container.blobs.get(f"runs/{run_id}/user_logs/std_log_process_0.txt")
                  .decode().strip() for run_id in runs(host.container) if run_id not in before)


def quiet_state(host) -> dict:
    """What a trigger firing again could change; not the pools, which the timer scales
    down on its own once runs are over, nor its ticks."""
    state = snapshot(host.container)
    state["registry"] = {k: v for k, v in state["registry"].items() if k[1] != "compute"}
    state["bus"] = {k: v for k, v in state["bus"].items() if "-tick-" not in str(v)}
    return state


def test_the_same_spec_dropped_again_beside_changed_code_runs_the_new_code(host):
    before = runs(host.container)
    folder = host.container.blobs.local_path("specs") / "changing"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "train.py").write_text("print('code 1')\n")
    (folder / "job.yml").write_text(SPEC)
    assert printed_by_new_runs(host, before, 1) == ["code 1"]

    (folder / "src" / "train.py").write_text("print('code 2')\n")
    (folder / "job.yml").write_text(SPEC)  # dropped again, byte for byte the same
    assert printed_by_new_runs(host, before, 2) == ["code 1", "code 2"]

    # The trigger firing again for what is there now is not a third run.
    state = quiet_state(host)
    p = host.container.ports()
    for _ in range(2):
        accept_dropped_spec("specs/changing/job.yml", SPEC.encode(), blobs=p["blobs"],
                            registry=p["registry"], bus=p["bus"], clock=p["clock"])
    changed = differences(state, quiet_state(host))
    record("duplicates", "dropped spec's blob trigger fired twice more after a code change",
           injected=2, lost=len(changed), checked="registry, blobs, bus, node folders")
    assert changed == [] and len(runs(host.container)) == len(before) + 2


def test_a_spec_copied_in_again_with_its_old_times_is_seen(host, tmp_path):
    """`cp -p` keeps size and mtime: only the inode's change time tells the watcher."""
    before = runs(host.container)
    staged = tmp_path / "job.yml"
    staged.write_text(SPEC)
    os.utime(staged, (1_700_000_000, 1_700_000_000))
    folder = host.container.blobs.local_path("specs") / "copied"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "train.py").write_text("print('copied 1')\n")
    shutil.copy2(staged, folder / "job.yml")
    assert printed_by_new_runs(host, before, 1) == ["copied 1"]

    (folder / "src" / "train.py").write_text("print('copied 2')\n")
    shutil.copy2(staged, folder / "job.yml")
    assert printed_by_new_runs(host, before, 2) == ["copied 1", "copied 2"]


# --- the refusal, its record and its error file, on the real adapters ---------------------

class ReportWatchingBlobs(LocalBlobStore):
    """The real local store, noting as each error report is written whether its spec's
    refusal is already on record."""

    def __init__(self, root, registry) -> None:
        super().__init__(root)
        self.registry, self.on_record_when_written = registry, []

    def put(self, path: str, data: bytes) -> None:
        if path.endswith(".error.json"):
            spec = json.loads(data)["spec"]
            self.on_record_when_written.append(any(
                r.body.get("spec") == spec and "error" in r.body
                for r in self.registry.list("intake")))
        super().put(path, data)


def world(tmp_path, files: dict[str, str]):
    container, _ = local_world(tmp_path)
    container.blobs = ReportWatchingBlobs(container.settings.blob_root, container.registry)
    for name, text in files.items():
        container.blobs.put(f"specs/drop/{name}", text.encode())
    p = container.ports()
    ports = {n: p[n] for n in ("blobs", "registry", "bus", "clock")}
    return container, lambda: accept_dropped_spec(
        "specs/drop/job.yml", container.blobs.get("specs/drop/job.yml"), **ports)


def test_an_error_file_is_written_only_once_its_refusal_is_on_record(tmp_path):
    container, fire = world(tmp_path, {"job.yml": SPEC + "bogus_field: 1\n",
                                       "src/train.py": "print(1)\n"})
    fire()
    assert container.blobs.exists(error_path("specs/drop/job.yml"))
    assert container.blobs.on_record_when_written == [True]


def test_an_error_file_lost_before_it_was_written_comes_back_as_it_was(tmp_path):
    """A crash between the record and the file: the next delivery writes the file."""
    container, fire = world(tmp_path, {"job.yml": SPEC + "bogus_field: 1\n",
                                       "src/train.py": "print(1)\n"})
    fire()
    report = container.blobs.get(error_path("specs/drop/job.yml"))
    container.blobs.delete(error_path("specs/drop/job.yml"))
    fire()
    assert container.blobs.get(error_path("specs/drop/job.yml")) == report


def test_a_spec_refused_for_a_missing_code_folder_is_taken_once_the_folder_is_there(tmp_path):
    container, fire = world(tmp_path, {"job.yml": SPEC})
    assert "error" in fire()
    container.blobs.put("specs/drop/src/train.py", b"print(1)\n")
    assert "error" not in fire()
    assert not container.blobs.exists(error_path("specs/drop/job.yml"))
    assert len(runs(container)) == 1


def test_a_code_folder_over_the_unpacking_limit_is_refused_with_its_spec(tmp_path,
                                                                        monkeypatch):
    """Every node would refuse to unpack its snapshot: the drop zone says so at once."""
    monkeypatch.setenv("MLCYCLE_MAX_UNPACKED_BYTES", str(1 << 20))
    container, fire = world(tmp_path, {"job.yml": SPEC, "src/train.py": "print(1)\n"})
    container.blobs.put("specs/drop/src/weights.bin", os.urandom(2 << 20))
    outcome = fire()
    assert "1 MiB" in outcome["error"]["message"]
    assert "code folder" in outcome["error"]["message"]
    assert runs(container) == {} and container.blobs.list("snapshots") == []
