"""Properties of the spec parser (shared.specs.load_spec), checked on generated input:
whatever text or mapping a spec file holds, the parser answers with a spec or with
InvalidSpec carrying a short message, never with another exception; and a valid job or
compute spec written with random values comes back with those values."""
import string
from contextlib import contextmanager

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.domain.errors import InvalidSpec
from shared.specs import ComputeSpec, JobSpec, load_spec, spec_kind
from tests.reliability.ledger import record

BOUNDED = settings(max_examples=150, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow])
JOB = "https://azuremlschemas.azureedge.net/latest/commandJob.schema.json"
# Keys the parser and the schema look at, so generated documents reach past the first check.
FIELDS = ["$schema", "type", "command", "code", "environment", "compute", "inputs",
          "outputs", "resources", "instance_count", "distribution", "limits", "timeout",
          "name", "path", "tags", "process_count_per_instance", "endpoint_name", "model",
          "auth_mode", "min_instances", "max_instances", "experiment_name", "uri_folder"]
SCALARS = (st.none() | st.booleans() | st.integers(-10, 10**12) | st.floats(allow_nan=True)
           | st.sampled_from(["azureml:x@latest", "azureml:nope:3", "../..", "./src", "file:x",
                              "command", "pytorch", "${{inputs.a}}", JOB, ""])
           | st.text(max_size=20))
DOCUMENTS = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=5),
    max_leaves=20)
YAML_ISH = st.text(alphabet="abcdef012" + ":-[]{}#&*!|>'\"%@`,?$. \n\t", max_size=200)
NAME = st.from_regex(r"[a-z][a-z0-9_\-]{0,20}", fullmatch=True)
SAFE_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " _-.", min_size=1,
                    max_size=30).map(str.strip).filter(bool)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("specs")
    (folder / "src").mkdir()
    (folder / "src" / "train.py").write_text("print('hi')\n")
    return folder


@contextmanager
def counted(fault: str):
    """Count the examples a property ran and the ones that broke it, and record both
    in the ledger whether or not it held."""
    tally = {"examples": 0, "broken": 0}
    try:
        yield tally
    finally:
        record("bad input", fault, injected=tally["examples"], lost=tally["broken"],
               checked="exception type, message")


def parse(folder, text: str, tally: dict):
    """load_spec on a file holding text: a spec, or None after a clear refusal."""
    tally["examples"] += 1
    spec_file = folder / "spec.yml"
    spec_file.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        spec_kind(text)
        return load_spec(spec_file, root=folder)
    except InvalidSpec as exc:
        message = str(exc)
        if not message or "Traceback" in message or len(message) > 2000:
            tally["broken"] += 1
            raise AssertionError(f"unclear refusal: {message[:300]!r}") from exc
        return None
    except Exception:
        tally["broken"] += 1
        raise


def test_arbitrary_text_is_a_spec_or_a_clear_refusal(folder):
    with counted("spec file of arbitrary text") as tally:
        @BOUNDED
        @given(st.text(max_size=200) | YAML_ISH)
        def check(text):
            parse(folder, text, tally)
        check()


def test_arbitrary_mappings_are_a_spec_or_a_clear_refusal(folder):
    with counted("spec file of arbitrary YAML mappings") as tally:
        @BOUNDED
        @given(st.dictionaries(st.sampled_from(FIELDS), DOCUMENTS, max_size=8),
               st.booleans())
        def check(doc, as_job):
            if as_job:  # past kind detection, into the schema and the converters
                doc = {"$schema": JOB, "command": "python train.py",
                       "environment": "azureml:e@latest", **doc}
            parse(folder, yaml.safe_dump(doc, allow_unicode=True), tally)
        check()


def test_a_valid_job_spec_comes_back_with_its_values(folder):
    with counted("valid job spec with random values, round trip") as tally:
        @BOUNDED
        @given(name=NAME, command=SAFE_TEXT, experiment=NAME, display=SAFE_TEXT,
               instances=st.integers(1, 16), processes=st.integers(1, 8),
               timeout=st.integers(1, 10**6), tags=st.dictionaries(NAME, SAFE_TEXT, max_size=4))
        def check(name, command, experiment, display, instances, processes, timeout, tags):
            doc = {"$schema": JOB, "name": name, "code": "./src", "command": f"echo {command}",
                   "environment": "azureml:AzureML-sklearn-1.0@latest",
                   "experiment_name": experiment, "display_name": display, "tags": tags,
                   "resources": {"instance_count": instances}, "limits": {"timeout": timeout},
                   "distribution": {"type": "pytorch", "process_count_per_instance": processes}}
            spec = parse(folder, yaml.safe_dump(doc), tally)
            assert isinstance(spec, JobSpec)
            got = (spec.name, spec.command, spec.experiment_name, spec.display_name,
                   spec.instance_count, spec.timeout_s, spec.tags, spec.code)
            assert got == (name, f"echo {command}", experiment, display, instances, timeout,
                           tags, folder / "src")
            assert spec.distribution["type"] == "pytorch"
            assert spec.distribution["process_count_per_instance"] == processes
        check()


def test_a_valid_compute_spec_comes_back_with_its_values(folder):
    with counted("valid compute spec with random values, round trip") as tally:
        @BOUNDED
        @given(name=NAME.filter(lambda n: 3 <= len(n) <= 16 and n[-1].isalnum()),
               low=st.integers(0, 10), extra=st.integers(0, 10), idle=st.integers(0, 10**5),
               tier=st.sampled_from(["dedicated", "low_priority"]))
        def check(name, low, extra, idle, tier):
            doc = {"$schema": "https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json",
                   "name": name, "type": "amlcompute", "min_instances": low,
                   "max_instances": low + extra + 1, "idle_time_before_scale_down": idle,
                   "tier": tier}
            spec = parse(folder, yaml.safe_dump(doc), tally)
            assert isinstance(spec, ComputeSpec)
            assert (spec.name, spec.min_instances, spec.max_instances,
                    spec.idle_time_before_scale_down, spec.tier) == (
                        name, low, low + extra + 1, idle, tier)
        check()
