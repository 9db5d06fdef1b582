"""Celery settings for the sweeper (the defaults docs/reliability.md explains).

Delivery is at-least-once (acks_late, reject_on_worker_lost, prefetch 1); the store makes the effect
exactly-once. One queue per stage so fetch workers can run many threads while match runs one process per core.
"""
from celery.schedules import crontab
from django.conf import settings
from kombu import Exchange, Queue

_config = settings.CONFIG

QUEUE_FETCH, QUEUE_PARSE, QUEUE_MATCH, QUEUE_PERSIST, QUEUE_NOTIFY = "fetch", "parse", "match", "persist", "notify"
PIPELINE_QUEUES = (QUEUE_FETCH, QUEUE_PARSE, QUEUE_MATCH, QUEUE_PERSIST, QUEUE_NOTIFY)
# Fetches of browser sources (a whole Chromium each): their own worker, `-Q browser --concurrency 1`.
QUEUE_BROWSER = "browser"
# Alert deliveries (webhooks, Apprise): slow or dead targets wait here, never in front of the pipeline.
QUEUE_ALERTS = "alerts"
# What `make worker` (and the test and benchmark workers) consume: the pipeline and its alerts.
WORKER_QUEUES = (*PIPELINE_QUEUES, QUEUE_ALERTS)

EMBEDDED_BROKER_URL = f"sqla+sqlite:///{_config.var_dir / 'broker.sqlite3'}"
broker_url = _config["CELERY_BROKER_URL"] or _config["REDIS_URL"] or EMBEDDED_BROKER_URL
broker_connection_retry_on_startup = True
_redis_broker = broker_url.startswith(("redis://", "rediss://"))
_rabbitmq_broker = broker_url.startswith(("amqp://", "amqps://", "pyamqp://"))
if _redis_broker:
    # Redis re-delivers an unacked message after the visibility timeout: keep it far above every time limit.
    # Each worker looks for such messages every 10 s (kombu's default is every 100 s: 10 s, throttled to 1 in 10).
    broker_transport_options = {"visibility_timeout": _config["CELERY_VISIBILITY_TIMEOUT"], "polling_interval": 0.2,
                                "unacked_restore_throttle": 1}
elif _rabbitmq_broker:
    # A message is the broker's once it has confirmed it (publisher confirms), not once it left the socket.
    broker_transport_options = {"confirm_publish": True}
else:  # the SQL transport hands its options to SQLAlchemy's create_engine, which knows none of these
    broker_transport_options = {}

# Each queue bound to an exchange of its own name by its own name: a bare Queue(name) would be bound with
# task_default_routing_key ("notify"), so a message sent to any queue's declared binding would reach every queue.
# The same declaration on every broker, so that a sender and a worker always agree on it; what RabbitMQ reads of it:
# quorum queues (replicated, on disk; an unacked message comes back the moment its consumer's connection drops) and
# topic exchanges (a retry's countdown then waits in RabbitMQ's native delayed delivery instead of in a worker, which
# Celery offers only through topic or fanout exchanges). The Redis and SQL transports ignore the queue type, and
# their topic exchange matches a key without wildcards exactly, as a direct one does.
QUEUE_EXCHANGE_TYPE = "topic"
task_queues = [Queue(name, Exchange(name, type=QUEUE_EXCHANGE_TYPE), routing_key=name,
                     queue_arguments={"x-queue-type": "quorum"})
               for name in (*WORKER_QUEUES, QUEUE_BROWSER)]
task_default_queue = QUEUE_NOTIFY
task_routes = {
    "workers.tasks.fetch_source": {"queue": QUEUE_FETCH},
    "workers.tasks.parse_payload": {"queue": QUEUE_PARSE},
    "workers.tasks.match_documents": {"queue": QUEUE_MATCH},
    "workers.tasks.persist_results": {"queue": QUEUE_PERSIST},
    "workers.tasks.notify": {"queue": QUEUE_NOTIFY},
    "workers.tasks.deliver_alert": {"queue": QUEUE_ALERTS},
}

accept_content = ["json"]
task_serializer = "json"
result_serializer = "json"
task_ignore_result = True  # nobody reads pipeline results; progress lives in the database
result_backend = None

# A task publishing its next stage waits out a broker restart (~35 s, well under the soft time limit) instead of
# failing after 0.6 s (Celery's default) and taking its batch with it.
task_publish_retry_policy = {"max_retries": 20, "interval_start": 0, "interval_step": 0.5, "interval_max": 2}

task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
task_soft_time_limit = 60
task_time_limit = 90
worker_max_tasks_per_child = 1000
worker_max_memory_per_child = 400_000  # KiB

beat_scheduler = "django_celery_beat.schedulers:DatabaseScheduler"
# Housekeeping; beat's DatabaseScheduler writes these into its PeriodicTask table when it starts.
beat_schedule = {
    "prune documents": {"task": "workers.tasks.prune_documents", "schedule": crontab(hour=3, minute=30),
                        "options": {"queue": QUEUE_PERSIST}},
}
timezone = "UTC"

# Flower and `celery events` need broadcast, which the embedded SQL broker lacks.
worker_send_task_events = _redis_broker or _rabbitmq_broker
task_send_sent_event = worker_send_task_events
