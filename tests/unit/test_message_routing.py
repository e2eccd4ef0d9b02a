"""Every message that travels on a queue can be taken off it: its type has a handler in
the dispatch table, and the FunctionApp has a Service Bus trigger on its queue (which
the local host drives too). A message type added without either would sit on its queue
until it is dead-lettered."""
import pytest

from shared.domain import messages
from shared.domain.messages import REGISTRY
from shared.handlers.registry import HANDLERS
from shared.localhost.triggers import read_triggers

# The project's own types: tests define message types of their own, which register too.
QUEUED = sorted((name, cls) for name, cls in REGISTRY.items()
                if cls.queue is not None and cls.__module__ == messages.__name__)


def queue_triggers() -> set[str]:
    import function_app

    return {t.queue for t in read_triggers(function_app.app) if t.kind == "serviceBusTrigger"}


def test_there_are_queued_message_types_to_check():
    assert {cls.queue for _, cls in QUEUED} >= {
        "data-register", "compute-scale", "job-launch", "job-complete", "model-register",
        "onnx-convert", "deploy"}


@pytest.mark.parametrize("name, cls", QUEUED, ids=[name for name, _ in QUEUED])
def test_a_queued_message_type_has_a_handler(name, cls):
    assert cls in HANDLERS, f"{name} goes to {cls.queue!r} but no handler takes it"


@pytest.mark.parametrize("name, cls", QUEUED, ids=[name for name, _ in QUEUED])
def test_a_queued_message_type_has_a_trigger_on_its_queue(name, cls):
    assert cls.queue in queue_triggers(), f"nothing listens on {cls.queue!r} for {name}"


def test_every_queue_trigger_listens_for_some_message_type():
    assert queue_triggers() <= {cls.queue for _, cls in QUEUED}
