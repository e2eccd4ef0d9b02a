"""Azure ML v2 spec files, validated with the official schemas and turned at once into
mlcycle's own frozen types; nothing outside this package sees azure-ai-ml objects."""
from shared.specs.document import spec_kind
from shared.specs.load import load_spec, referenced_paths
from shared.specs.refs import parse_asset_ref, parse_run_output_ref
from shared.specs.types import (
    AssetRef,
    ComputeSpec,
    DataSpec,
    DeploymentSpec,
    EndpointSpec,
    EnvironmentSpec,
    InputSpec,
    JobSpec,
    ModelSpec,
    OutputSpec,
    RunOutputRef,
    Spec,
    SweepSpec,
)

__all__ = [
    "AssetRef",
    "ComputeSpec",
    "DataSpec",
    "DeploymentSpec",
    "EndpointSpec",
    "EnvironmentSpec",
    "InputSpec",
    "JobSpec",
    "ModelSpec",
    "OutputSpec",
    "RunOutputRef",
    "Spec",
    "SweepSpec",
    "load_spec",
    "parse_asset_ref",
    "parse_run_output_ref",
    "referenced_paths",
    "spec_kind",
]
