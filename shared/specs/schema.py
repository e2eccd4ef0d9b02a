"""Validation against the official Azure ML v2 schemas, through azure-ai-ml.

azure-ai-ml is imported on first use (it takes seconds), and its objects never leave
this package: converters read what they need from them at once.
"""
from __future__ import annotations

import functools
import io
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from shared.domain.errors import InvalidSpec
from shared.specs.schema_errors import short_message

_LOADERS = {
    "job": "load_job",
    "data": "load_data",
    "model": "load_model",
    "compute": "load_compute",
    "endpoint": "load_online_endpoint",
    "deployment": "load_online_deployment",
    "environment": "load_environment",
}

_EXPERIMENTAL_LOGGERS = ("azure.ai.ml._utils._experimental", "azure.ai.ml._schema.core.fields")


def _not_experimental_notice(record: logging.LogRecord) -> bool:
    return "This is an experimental" not in record.getMessage()


@functools.cache
def _azure_ml() -> SimpleNamespace:
    # Loading a spec touches azure-ai-ml's experimental classes and fields, each of
    # which logs a notice that, through logging's last-resort handler, lands on stderr
    # of every validation. Only those notices are dropped; other records pass.
    for name in _EXPERIMENTAL_LOGGERS:
        logging.getLogger(name).addFilter(_not_experimental_notice)
    import azure.ai.ml as ml
    from azure.ai.ml.exceptions import MlException
    from marshmallow import ValidationError

    loaders = {kind: getattr(ml, name) for kind, name in _LOADERS.items()}
    return SimpleNamespace(loaders=loaders, errors=(ValidationError, MlException))


def validate(kind: str, doc: dict, source: Path) -> Any:
    """Validate a spec document with azure-ai-ml's loader for its kind.

    Parameters:
        kind: one of "job", "data", "model", "compute", "endpoint", "deployment",
            "environment".
        doc: the document, overrides applied.
        source: the spec file; relative paths in `doc` are resolved from its folder.

    Raises:
        InvalidSpec: the schema refuses it; the message lists the fields at fault.

    Returns:
        The azure-ai-ml entity, for a converter to read and drop.
    """
    azure = _azure_ml()
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    try:
        return azure.loaders[kind](io.StringIO(text), relative_origin=str(source))
    except azure.errors as e:
        raise InvalidSpec(short_message(e, doc)) from e
    except (TypeError, ValueError, AttributeError, KeyError) as e:
        # azure-ai-ml trips over some malformed documents instead of reporting them;
        # the document is still what is wrong, so retrying cannot help.
        raise InvalidSpec(f"not a valid {kind} spec ({type(e).__name__}: {e})") from e
