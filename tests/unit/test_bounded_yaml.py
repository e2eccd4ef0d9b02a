"""YAML nested thousands of levels deep is refused as invalid, naming the limit and the
place, by every reader of spec text: the spec loader, `--set` values and the CLI."""
import pytest

from shared.bounded_yaml import MAX_NESTING, safe_load
from shared.cli.bundle import load_spec_file
from shared.cli.errors import CliError
from shared.domain.errors import InvalidSpec
from shared.specs.document import apply_overrides, parse_yaml

DEEP_LIST = "[" * 20_000 + "]" * 20_000
DEEP_MAPPING = "{a: " * 20_000 + "1" + "}" * 20_000
DEEP_BLOCK = "".join("  " * i + "- \n" for i in range(MAX_NESTING + 5))


@pytest.mark.parametrize("text", [f"deep: {DEEP_LIST}", f"deep: {DEEP_MAPPING}", DEEP_BLOCK])
def test_a_deeply_nested_document_is_invalid_yaml_naming_the_limit_and_place(text):
    with pytest.raises(InvalidSpec, match=f"invalid YAML at line \\d+, column \\d+: "
                                          f"nested deeper than {MAX_NESTING} levels"):
        parse_yaml(text)


def test_nesting_up_to_the_limit_reads_as_before():
    value = safe_load("[" * MAX_NESTING + "]" * MAX_NESTING)
    for _ in range(MAX_NESTING - 1):
        [value] = value
    assert value == []
    assert safe_load("a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}


def test_a_deeply_nested_set_value_is_refused():
    with pytest.raises(InvalidSpec, match=f"{MAX_NESTING} levels"):
        apply_overrides({"tags": {}}, [f"tags.deep={DEEP_LIST}"])


def test_the_cli_refuses_a_deeply_nested_spec_file_naming_it(tmp_path):
    spec = tmp_path / "job.yml"
    spec.write_text(f"command: python x.py\ntags:\n  deep: {DEEP_LIST}\n")
    with pytest.raises(CliError, match=f"job.yml: invalid YAML: nested deeper than "
                                       f"{MAX_NESTING} levels.*line 3"):
        load_spec_file(spec)
