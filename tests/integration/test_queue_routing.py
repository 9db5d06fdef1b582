"""Each queue is bound by its own routing key to its own exchange (as kombu declares it and the worker banner shows),
and a message sent to a queue, by task route or by that binding, reaches that queue and no other."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from celeryconfig import QUEUE_BROWSER, QUEUE_EXCHANGE_TYPE, WORKER_QUEUES
from tgesweeper.celery import app

QUEUES = (*WORKER_QUEUES, QUEUE_BROWSER)


def test_the_app_declares_each_queue_with_its_own_exchange_and_routing_key():
    declared = {name: (queue.exchange.name, queue.exchange.type, queue.routing_key)
                for name, queue in app.amqp.queues.items()}
    assert declared == {name: (name, QUEUE_EXCHANGE_TYPE, name) for name in QUEUES}


@pytest.mark.services
def test_a_real_worker_banner_shows_each_queue_with_its_own_routing_key(start_worker):
    text = start_worker(concurrency=1).log_text()
    for name in WORKER_QUEUES:
        assert re.search(rf"\.> {name}\s+exchange={name}\({QUEUE_EXCHANGE_TYPE}\) key={name}\s", text), text[-2000:]


def _depths(conn) -> dict[str, int]:
    return {name: app.amqp.queues[name].bind(conn.default_channel).queue_declare(passive=True).message_count
            for name in QUEUES}


def _purge(conn) -> None:
    for name in QUEUES:
        app.amqp.queues[name].bind(conn.default_channel).purge()


def test_a_message_for_a_queue_reaches_that_queue_and_no_other():
    with app.connection_for_write() as conn:
        for queue in app.amqp.queues.values():
            queue.bind(conn.default_channel).declare()
        _purge(conn)
        try:
            for task in app.conf.task_routes:  # the way the pipeline sends: by its task routes
                app.send_task(task, args=[0])
            app.send_task("workers.tasks.fetch_source", args=[0], queue=QUEUE_BROWSER)
            assert _depths(conn) == {**dict.fromkeys(WORKER_QUEUES, 1), QUEUE_BROWSER: 1}

            with conn.Producer() as producer:  # by each queue's declared exchange and routing key
                for queue in app.amqp.queues.values():
                    producer.publish({"to": queue.name}, exchange=queue.exchange, routing_key=queue.routing_key,
                                     declare=[queue])
            assert _depths(conn) == dict.fromkeys(QUEUES, 2)
        finally:
            _purge(conn)


def test_on_rabbitmq_the_queues_are_quorum_queues_on_topic_exchanges_with_publisher_confirms():
    """Read in a process of its own: celeryconfig is evaluated once, at import, from the broker URL."""
    probe = ("import django; django.setup(); import celeryconfig as c; "
             "print(sorted({(q.exchange.type, q.queue_arguments['x-queue-type']) for q in c.task_queues}), "
             "c.broker_transport_options, c.worker_send_task_events)")
    env = {**os.environ, "CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
           "DJANGO_SETTINGS_MODULE": "tgesweeper.settings"}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[('topic', 'quorum')] {'confirm_publish': True} True"
