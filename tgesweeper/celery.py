"""The Celery app ``tgesweeper``; its configuration lives in the top-level ``celeryconfig.py``."""
import os

from celery import Celery, signals
from django.conf import settings
from django.db import close_old_connections
from kombu.transport import redis as redis_transport
from redis.exceptions import ConnectionError as RedisConnectionError

from tgesweeper import logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tgesweeper.settings")


def _closed_channels_raise_connection_errors() -> None:
    """After a Redis restart kombu can use a channel it has already closed: a producer it revived, or the consumer
    restoring unacked messages while it closes the lost connection (kin of celery/kombu#659 and #970). The channel's
    ``connection`` (or its ``client``) is then None and the AttributeError fails the task, or stops the whole worker
    ("Unrecoverable error"). Raise the connection error it really is: kombu retries or ignores those and reconnects;
    the message stays unacked and comes back after the visibility timeout. (Found by the Redis-restart fault test:
    opening a connection (``_connparams``), and publishing to an exchange (``state``, read by ``typeof``), which
    parked a match message that was publishing its persist as the connection dropped.)"""
    connparams = redis_transport.Channel._connparams

    def _connparams(self, *args, **kwargs):
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("broker channel already closed (connection lost)")
        return connparams(self, *args, **kwargs)

    def _state(self):
        if self.connection is None:
            raise RedisConnectionError("broker channel already closed (connection lost)")
        return self.connection.state

    redis_transport.Channel._connparams = _connparams  # type: ignore[method-assign]
    redis_transport.Channel.state = property(_state)  # type: ignore[assignment,method-assign]


_closed_channels_raise_connection_errors()

@signals.setup_logging.connect(dispatch_uid="tge-logging")
def _logging_as_every_process(**_) -> None:
    """Workers and beat log like the web (tgesweeper/logs.py) instead of installing Celery's own handlers."""
    logs.configure(settings.CONFIG)


app = Celery("tgesweeper")
app.config_from_object("celeryconfig")
app.autodiscover_tasks(["workers"])
# Celery's Django fixup closes the database connection before and after every task unless this is set: each task
# then opened a PostgreSQL connection of its own (a new server process each time). With it, a worker process keeps its
# connection the way Django keeps one across requests: ``close_old_connections`` around each task closes it once it
# is older than DATABASE_CONN_MAX_AGE or has failed, and the fixup's own close comes only every 2 × this many tasks.
app.conf.CELERY_DB_REUSE_MAX = 1_000_000


@signals.task_prerun.connect(dispatch_uid="tge-db-connections")
@signals.task_postrun.connect(dispatch_uid="tge-db-connections-after")
def _database_connections_as_per_request(task=None, **_) -> None:
    if task is not None and getattr(task.request, "is_eager", False):
        return  # run in the caller's process (a test, a command): the connection is the caller's
    close_old_connections()
