"""A sweep as azure-ai-ml sends it, read as the sweep YAML it stands for, and a sweep's
record shaped back as the SDK reads a SweepJob: both through the SDK's own models,
offline."""
import dataclasses

import pytest
import yaml

from shared.api.replies import BadRequest
from shared.arm.scope import Scope
from shared.arm.sweep_shapes import sweep_shape
from shared.arm.sweep_specs import sweep_document
from shared.domain.sweeps import Parameter, Policy, Sampling, SweepLimits
from shared.specs import load_spec

# Each distribution of azure.ai.ml.sweep, with arguments of its constructor.
SPACES = [("Choice", ([1, 2],)), ("Randint", (5,)), ("Uniform", (0, 1)), ("QUniform", (0, 10, 2)),
          ("LogUniform", (-3, 0)), ("QLogUniform", (-3, 0, 1)), ("Normal", (0, 1)),
          ("QNormal", (0, 1, 1)), ("LogNormal", (0, 1)), ("QLogNormal", (0, 1, 1))]


def sdk_sweep(policy=None, sampling="random", **limits):
    """What `ml_client.jobs.create_or_update(command(...).sweep(...))` puts: the REST
    body of the SweepJob the SDK builds."""
    from azure.ai.ml import command
    from azure.ai.ml import sweep as sweeps

    job = command(command="python t.py --x ${{inputs.x}} --k ${{inputs.k}} --n ${{inputs.n}}",
                  inputs={"x": 0.5, "k": "rbf", "n": 3}, experiment_name="e",
                  environment="azureml:AzureML-sklearn-1.5@latest")
    swept = job(x=sweeps.Uniform(0.1, 1.0), k=sweeps.Choice(["rbf", "linear"])).sweep(
        primary_metric="acc", goal="maximize", sampling_algorithm=sampling,
        early_termination_policy=policy)
    swept.set_limits(**{"max_total_trials": 6, "max_concurrent_trials": 2, **limits})
    return swept._to_job()._to_rest_object().as_dict()["properties"]


def as_spec(tmp_path, doc):
    (tmp_path / "sweep.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_spec(tmp_path / "sweep.yml")


def test_the_sdks_sweep_becomes_the_yaml_of_the_same_sweep(tmp_path):
    from azure.ai.ml.sweep import BanditPolicy

    props = sdk_sweep(BanditPolicy(slack_amount=0.3, evaluation_interval=2), timeout=600,
                      trial_timeout=120)
    spec = as_spec(tmp_path, sweep_document("s1", props))
    d = spec.definition
    assert spec.name == "s1" and spec.experiment_name == "Default"  # the SDK sends none
    # The SDK turns ${{inputs.x}} of a swept input into ${{search_space.x}}.
    assert spec.trial.command == ("python t.py --x ${{search_space.x}} --k ${{search_space.k}}"
                                  " --n ${{inputs.n}}")
    assert d.search_space == (("x", Parameter("uniform", min_value=0.1, max_value=1.0)),
                              ("k", Parameter("choice", values=("rbf", "linear"))))
    assert d.sampling == Sampling("random", None)
    assert d.limits == SweepLimits(6, 2, 600.0, 120.0)
    assert d.early_termination == Policy("bandit", 2, 0, slack_amount=0.3)


@pytest.mark.parametrize("kind, arguments", SPACES, ids=[kind for kind, _ in SPACES])
def test_each_distribution_the_sdk_writes_is_read_back(tmp_path, kind, arguments):
    from azure.ai.ml import sweep as sweeps

    props = sdk_sweep()
    given = getattr(sweeps, kind)(*arguments)
    props["searchSpace"]["x"] = given._to_rest_object()
    x = dict(as_spec(tmp_path, sweep_document("s", props)).definition.search_space)["x"]
    assert x.kind == kind.lower()
    for field, value in vars(given).items():
        if field != "type":
            assert getattr(x, field) == (tuple(value) if field == "values" else value)


def test_grid_and_bayesian_sampling_and_the_other_policies_come_through(tmp_path):
    from azure.ai.ml.sweep import MedianStoppingPolicy, TruncationSelectionPolicy

    median = as_spec(tmp_path, sweep_document("s", sdk_sweep(
        MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=3))))
    assert median.definition.early_termination == Policy("median_stopping", 1, 3)
    props = sdk_sweep(TruncationSelectionPolicy(truncation_percentage=20), sampling="grid")
    props["searchSpace"]["x"] = ["choice", [[0.1, 0.5]]]  # a grid takes only choices
    truncation = as_spec(tmp_path, sweep_document("s", props))
    assert truncation.definition.early_termination.truncation_percentage == 20
    assert truncation.definition.sampling.algorithm == "grid"
    assert as_spec(tmp_path, sweep_document("s", sdk_sweep(sampling="bayesian"))) \
        .definition.sampling.algorithm == "bayesian"


def test_a_search_space_that_is_no_expression_is_a_bad_request():
    props = sdk_sweep()
    props["searchSpace"]["x"] = {"type": "uniform"}
    with pytest.raises(BadRequest, match="searchSpace.x"):
        sweep_document("s", props)


def test_a_sweeps_record_reads_as_a_sweep_job_with_its_best_child(tmp_path):
    from azure.ai.ml._restclient.arm_ml_service.models import JobBase
    from azure.ai.ml.entities import Job

    spec = as_spec(tmp_path, sweep_document("s1", sdk_sweep()))
    definition = dataclasses.replace(spec.definition, sampling=Sampling("random", 5))
    run = {"name": "s1", "status": "Completed", "display_name": "s1", "experiment_name": "e",
           "sweep": definition.to_record(), "best_child_run_id": "s1_3",
           "trial": {"command": spec.trial.command, "environment": "azureml:x@latest",
                     "compute": "local"},
           "creation_context": {"created_at": "2026-01-01T00:00:00+00:00"}}
    shaped = sweep_shape(Scope("sub", "rg", "mlcycle"), run, "https://127.0.0.1:1", {},
                         "https://127.0.0.1:1/#/runs/s1")
    job = Job._from_rest_object(JobBase._deserialize(shaped, []))
    assert job.type == "sweep" and job.status == "Completed"
    assert job.properties["best_child_run_id"] == "s1_3"
    assert set(job.search_space) == {"x", "k"} and job.sampling_algorithm.seed == 5
    assert job.objective.primary_metric == "acc" and job.limits.max_total_trials == 6
