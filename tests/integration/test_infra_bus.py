"""The Service Bus entities beyond the handler queues: the queue the triggers park their
own dead letters in, and the events topic with its journal subscription, named as the
code names them."""
import inspect
import re

from shared.adapters.servicebus_bus import ServiceBusBus
from shared.adapters.servicebus_parking import PARKING_QUEUE
from tests.integration.bicep_reading import app_settings, bicep, braced, resource


def test_the_parking_queue_is_the_one_the_triggers_park_in_and_never_expires_messages():
    text = bicep("modules/servicebus.bicep")
    assert re.search(rf"^param parkingQueueName string = '{PARKING_QUEUE}'$", text, re.M)
    queues = [m.start() for m in re.finditer(
        r"^resource parkingQueue 'Microsoft.ServiceBus/namespaces/queues@", text, re.M)]
    assert len(queues) == 1
    body = braced(text, queues[0])
    assert "name: parkingQueueName" in body
    assert "deadLetteringOnMessageExpiration: false" in body  # parked means kept
    assert "requiresDuplicateDetection: true" in body  # a redelivery parks once
    assert "defaultMessageTimeToLive" not in body  # Service Bus' default: forever


def test_events_go_to_a_topic_the_app_is_told_about_and_a_journal_keeps_them():
    text = bicep("modules/servicebus.bicep")
    topic = resource(text, "Microsoft.ServiceBus/namespaces/topics")
    assert "name: eventsTopicName" in topic and "requiresDuplicateDetection: true" in topic
    journal = resource(text, "Microsoft.ServiceBus/namespaces/topics/subscriptions")
    assert "name: 'journal'" in journal and "parent: eventsTopic" in journal
    defaults = inspect.signature(ServiceBusBus).parameters
    assert defaults["journal_subscription"].default == "journal"
    assert app_settings()["MLCYCLE_EVENTS_TOPIC"] == "eventsTopicName"
    assert "eventsTopicName: serviceBus.outputs.eventsTopic" in bicep("main.bicep")
