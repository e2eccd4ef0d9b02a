"""Environment specs and a job's `environment:` field: validated with azure-ai-ml's own
loader, conda files read relative to the file that names them, a build context refused
with the reason, and every file kept inside the spec's root."""
import pytest

from shared.specs import EnvironmentSpec, load_spec, spec_kind
from tests.unit.spec_files import refusal, write

SCHEMA = "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
CONDA = "name: probe\ndependencies:\n  - python=3.11\n  - pip:\n    - six==1.16.0\n"
JOB = ("$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
       "command: python -c 'print(1)'\n")


@pytest.fixture
def root(tmp_path):
    (tmp_path / "outside").mkdir()
    write(tmp_path / "outside", "conda.yml", CONDA)
    (tmp_path / "root").mkdir()
    return tmp_path / "root"


class TestTellingAnEnvironmentSpec:
    @pytest.mark.parametrize("text", [SCHEMA + "name: e\nimage: python\n",
                                      "name: e\nimage: python\n",
                                      "name: e\nconda_file: conda.yml\n",
                                      "name: e\nbuild: {path: docker}\n"])
    def test_by_its_schema_or_by_its_keys(self, text):
        assert spec_kind(text) == "environment"

    def test_a_conda_file_is_not_one(self):
        assert spec_kind(CONDA) is None


class TestLoadingAnEnvironmentSpec:
    def test_an_image_and_a_conda_file_beside_it(self, root):
        write(root, "env/conda.yml", CONDA)
        path = write(root, "env/env.yml", SCHEMA + "name: probe-env\nversion: 3\nimage: "
                     "ubuntu:22.04\nconda_file: conda.yml\ndescription: d\ntags: {a: b}\n")
        spec = load_spec(path, root=root)
        assert spec == EnvironmentSpec(
            source=path.resolve(), name="probe-env", version="3", image="ubuntu:22.04",
            conda={"name": "probe", "dependencies": ["python=3.11", {"pip": ["six==1.16.0"]}]},
            conda_file=(root / "env" / "conda.yml").resolve(), description="d",
            tags={"a": "b"})

    def test_a_file_reference_to_the_conda_file_reads_it_relative_to_the_spec(self, root):
        write(root, "env/conda.yml", CONDA)
        path = write(root, "env/env.yml", SCHEMA + "name: e\nconda_file: file:conda.yml\n")
        spec = load_spec(path, root=root)
        assert spec.conda_file == (root / "env" / "conda.yml").resolve()
        assert spec.conda["dependencies"][1] == {"pip": ["six==1.16.0"]}
        assert spec.version is None  # the registry gives the next one

    def test_a_build_context_is_refused_because_no_image_is_built_here(self, root):
        (root / "docker").mkdir()
        path = write(root, "env.yml", SCHEMA + "name: e\nbuild: {path: docker}\n")
        assert refusal(path, root=root) == (
            "env.yml: build (a Docker build context) is not supported: no image is built "
            "here; give an image, and a conda_file for the pip packages")

    def test_an_environment_of_nothing_is_refused(self, root):
        path = write(root, "env.yml", SCHEMA + "name: e\ndescription: empty\n")
        assert refusal(path, root=root) == "env.yml: an environment needs an image or a conda_file"

    def test_a_name_is_required(self, root):
        path = write(root, "env.yml", SCHEMA + "image: python\n")
        assert refusal(path, root=root) == "env.yml: name: required field missing"

    def test_a_conda_file_outside_the_root_is_refused_before_it_is_read(self, root):
        path = write(root, "env.yml", SCHEMA + "name: e\nconda_file: ../outside/conda.yml\n")
        assert refusal(path, root=root) == (
            "env.yml: conda_file '../outside/conda.yml' is outside the spec's folder")

    def test_a_conda_file_that_is_not_a_mapping_is_refused(self, root):
        write(root, "conda.yml", "- six\n")
        path = write(root, "env.yml", SCHEMA + "name: e\nconda_file: conda.yml\n")
        assert refusal(path, root=root) == (
            "env.yml: conda_file 'conda.yml' is not a conda environment (a mapping)")

    def test_an_unknown_field_is_refused_by_the_schema(self, root):
        path = write(root, "env.yml", SCHEMA + "name: e\nimage: python\nimagee: typo\n")
        assert "imagee" in refusal(path, root=root)


class TestAJobsEnvironmentFromAFile:
    def test_its_conda_file_is_read_relative_to_the_environment_file(self, root):
        write(root, "envs/conda.yml", CONDA)
        write(root, "envs/env.yml", "name: e\nimage: ubuntu:22.04\nconda_file: conda.yml\n")
        job = load_spec(write(root, "job.yml", JOB + "environment: file:envs/env.yml\n"),
                        root=root)
        assert (job.environment, job.environment_image) == ("inline", "ubuntu:22.04")
        assert job.environment_conda_file == (root / "envs" / "conda.yml").resolve()
        assert job.environment_conda["dependencies"][1] == {"pip": ["six==1.16.0"]}

    def test_an_inline_conda_file_may_be_a_file_reference(self, root):
        write(root, "conda.yml", CONDA)
        job = load_spec(write(root, "job.yml", JOB + "environment:\n  image: python\n"
                              "  conda_file: file:conda.yml\n"), root=root)
        assert job.environment_conda_file == (root / "conda.yml").resolve()

    def test_an_environment_file_outside_the_root_is_refused(self, root):
        write(root.parent / "outside", "env.yml", "name: e\nimage: python\n")
        path = write(root, "job.yml", JOB + "environment: file:../outside/env.yml\n")
        assert refusal(path, root=root) == (
            "job.yml: environment file '../outside/env.yml' is outside the spec's folder")

    def test_its_conda_file_must_stay_inside_the_root_too(self, root):
        write(root, "env.yml", "name: e\nconda_file: ../outside/conda.yml\n")
        path = write(root, "job.yml", JOB + "environment: file:env.yml\n")
        assert refusal(path, root=root) == (
            "job.yml: environment 'file:env.yml': conda_file '../outside/conda.yml' is "
            "outside the spec's folder")

    def test_a_build_context_in_it_is_refused(self, root):
        write(root, "env.yml", "name: e\nbuild: {path: .}\n")
        path = write(root, "job.yml", JOB + "environment: file:env.yml\n")
        assert "no image is built here" in refusal(path, root=root)

    def test_a_registered_reference_is_kept_by_name_and_version(self, root):
        job = load_spec(write(root, "job.yml", JOB + "environment: azureml:probe-env:2\n"),
                        root=root)
        assert (job.environment, job.environment_conda) == ("probe-env:2", None)

    def test_file_references_elsewhere_are_still_refused(self, root):
        path = write(root, "job.yml", JOB + "environment: azureml:e@latest\n"
                      "description: file:env.yml\n")
        assert "description: 'file:' references are not supported" in refusal(path, root=root)
