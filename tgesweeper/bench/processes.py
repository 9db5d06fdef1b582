"""Servers and faults for the fault and pipeline benchmarks and the fault tests: each piece starts its own process or
socket on 127.0.0.1 (or the address it is given) and stops only what it started. Never the shared Redis, RabbitMQ or
PostgreSQL: a private ``redis-server``, a private RabbitMQ node, a TCP proxy in front of PostgreSQL, a row lock held
from a connection of its own.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg2
import redis
from kombu import Connection

from tgesweeper.bench.local_process import free_port, wait_until

POSTGRESQL_PORT = 5432


class _ServerProcess:
    """A server process started here: ``with`` starts it and, at the end, kills it (nothing of it is kept)."""

    process: subprocess.Popen | None = None

    def start(self):
        raise NotImplementedError

    def stop(self, sig: int = signal.SIGTERM) -> None:
        raise NotImplementedError

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def _raise_if_exited(self, name: str, output: Callable[[], str] = str) -> None:
        """While it starts: a server that exited will never answer (``output``: what it said, read only then)."""
        assert self.process is not None
        if self.process.poll() is not None:
            said = output()
            raise RuntimeError(f"{name} exited with {self.process.returncode}{': ' if said else ''}{said}")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.kill()


class RedisServer(_ServerProcess):
    """A private ``redis-server`` on a free port; ``appendonly`` (fsync always) lets a restart keep every write.
    ``also_on`` adds listen addresses beyond 127.0.0.1 (a private bridge that worker hosts reach it through; protected
    mode, which would refuse them, is off: the bridge reaches no other machine)."""

    def __init__(self, directory: Path, *, appendonly: bool = False, also_on: tuple[str, ...] = ()):
        self.directory = Path(directory)
        self.appendonly = appendonly
        self.also_on = also_on
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def start(self, timeout: float = 10.0) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", *self.also_on,
                   "--protected-mode", "no" if self.also_on else "yes", "--save", "", "--dir",
                   str(self.directory), "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", "always"]
        with (self.directory / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._answers, timeout, message=f"redis-server on port {self.port} did not answer")
        return self

    def _answers(self) -> bool:
        self._raise_if_exited("redis-server")
        try:
            return self.client().ping()
        except redis.RedisError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """SIGTERM: a restart's shutdown (Redis answers what it has served, writes the AOF and exits); SIGKILL: a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(10)


class RabbitMQServer(_ServerProcess):
    """A private RabbitMQ node of the machine's ``rabbitmq-server`` on a free port, its data in a temporary folder of
    its own, so the test may stop and restart it. Started by root, the package's script runs the node as the
    ``rabbitmq`` user: the folder sits directly in the temporary directory (pytest's are private to root) and is
    handed to that user."""

    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="tgesweeper-rabbitmq-"))
        self.port, self.dist_port = free_port(), free_port()
        self.node = f"tgetest{self.port}@localhost"

    @staticmethod
    def installed() -> bool:
        return shutil.which("rabbitmq-server") is not None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def start(self, timeout: float = 60.0) -> RabbitMQServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "rabbitmq.conf").write_text(f"listeners.tcp.default = 127.0.0.1:{self.port}\n")
        (self.directory / "enabled_plugins").write_text("[].\n")
        if os.geteuid() == 0:
            for path in (self.directory, *self.directory.rglob("*")):
                shutil.chown(path, "rabbitmq", "rabbitmq")
        env = {**os.environ, "RABBITMQ_NODENAME": self.node, "RABBITMQ_NODE_PORT": str(self.port),
               "RABBITMQ_DIST_PORT": str(self.dist_port), "RABBITMQ_CONFIG_FILE": str(self.directory / "rabbitmq.conf"),
               "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.directory / "enabled_plugins"),
               "RABBITMQ_MNESIA_BASE": str(self.directory / "mnesia"), "RABBITMQ_LOG_BASE": str(self.directory / "log"),
               "RABBITMQ_PID_FILE": str(self.directory / "node.pid")}
        with (self.directory / "rabbitmq.out").open("ab") as log:
            self.process = subprocess.Popen(["rabbitmq-server"], env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._answers, timeout, poll=0.25, message=f"RabbitMQ on port {self.port} did not answer")
        return self

    def _answers(self) -> bool:
        self._raise_if_exited("rabbitmq-server", lambda: (self.directory / "rabbitmq.out").read_text()[-2000:])
        try:
            with Connection(self.url, connect_timeout=1) as conn:
                conn.ensure_connection(max_retries=1)
            return True
        except Exception:  # kombu raises the transport's own errors while the node boots
            return False

    def queue_depths(self) -> dict[str, int]:
        """Messages each queue holds, ready or delivered and not yet acked."""
        out = subprocess.run(["rabbitmqctl", "-q", "-n", self.node, "list_queues", "--no-table-headers", "name",
                              "messages"], capture_output=True, text=True, check=True, timeout=30).stdout
        return {name: int(count) for name, count in (line.split("\t") for line in out.splitlines() if "\t" in line)}

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """SIGTERM: a restart's orderly shutdown; SIGKILL: a crash."""
        pid_file = self.directory / "node.pid"
        if self.process is None or self.process.poll() is not None:
            return
        if pid_file.exists() and (pid := int(pid_file.read_text().split()[0])) and psutil.pid_exists(pid):
            os.kill(pid, sig)
        self.process.wait(60)

    def __exit__(self, *exc) -> None:
        super().__exit__(*exc)
        shutil.rmtree(self.directory, ignore_errors=True)


class TcpProxy:
    """Forwards ``host``:``port`` to the server of ``url`` (a database URL: PostgreSQL's port unless it names one);
    ``url`` is then the same URL through the proxy. ``cut()`` drops every connection and refuses new ones (the
    server is unreachable) until ``restore()``. ``peers`` counts the connections per client address."""

    def __init__(self, url: str, host: str = "127.0.0.1"):
        self.real = urlsplit(url)
        self.target = (self.real.hostname or "127.0.0.1", self.real.port or POSTGRESQL_PORT)
        self.host = host
        self.port = free_port()
        self.peers: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.connections = 0

    @property
    def url(self) -> str:
        userinfo = self.real.netloc.rpartition("@")[0]
        return urlunsplit(self.real._replace(netloc=f"{userinfo}{'@' if userinfo else ''}{self.host}:{self.port}"))

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name="tcp-proxy", daemon=True).start()
        return self

    restore = start

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, peer = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._sockets |= {client, upstream}
                self.connections += 1
                self.peers[peer[0]] += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            self._close(end)

    def _close(self, end: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(end)
        try:
            end.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        end.close()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            ends = list(self._sockets)
        for end in ends:
            self._close(end)

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.cut()


class RowLock:
    """Holds ``SELECT ... FOR UPDATE`` from a connection of its own, so a worker's transaction that needs the same
    rows waits, mid-transaction, until ``release()``. ``waiter()`` finds the backend waiting behind it."""

    def __init__(self, dsn: str, sql: str, params: tuple = ()):
        self.dsn, self.sql, self.params = dsn, sql, params

    def __enter__(self) -> RowLock:
        self.holder = psycopg2.connect(self.dsn)
        self.holder.cursor().execute(self.sql, self.params)
        self.watcher = psycopg2.connect(self.dsn)
        self.watcher.autocommit = True
        return self

    def waiters(self) -> list[tuple[int, int, str]]:
        """(backend pid, client port, query) of each backend blocked by this lock."""
        with self.watcher.cursor() as cur:
            cur.execute("SELECT pid, client_port, query FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                        (self.holder.get_backend_pid(),))
            return cur.fetchall()

    def wait_for_waiter(self, timeout: float) -> tuple[int, int, str]:
        wait_until(self.waiters, timeout, message="no transaction came to wait on the lock")
        return self.waiters()[0]

    def release(self) -> None:
        self.holder.rollback()

    def __exit__(self, *exc) -> None:
        self.release()
        self.holder.close()
        self.watcher.close()


def worker_processes(pid: int) -> list[psutil.Process]:
    """A worker's main process and its pool children."""
    main = psutil.Process(pid)
    return [main, *main.children(recursive=True)]


def process_with_local_port(pid: int, port: int) -> psutil.Process | None:
    """The process of worker ``pid`` (main or child) whose TCP connection has local port ``port``."""
    for process in worker_processes(pid):
        if any(c.laddr and c.laddr.port == port for c in process.net_connections(kind="tcp")):
            return process
    return None


def kill_processes(processes: list[psutil.Process]) -> None:
    """``kill -9`` exactly these processes and wait until they are gone."""
    for process in processes:
        process.send_signal(signal.SIGKILL)
    gone, alive = psutil.wait_procs(processes, timeout=10)
    assert not alive, alive


def tcp_endpoints(pid: int) -> set[tuple[str, int]]:
    """The local (address, port) of each IPv4 TCP socket of ``pid``, read from its own ``/proc`` view (psutil sees
    only the sockets of this process's network namespace)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    endpoints = set()
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[9] in inodes:
            address, port = fields[1].split(":")
            endpoints.add((socket.inet_ntoa(int(address, 16).to_bytes(4, "little")), int(port, 16)))
    return endpoints


@dataclass(frozen=True)
class HeldMessage:
    task: str
    task_id: str


def kill_worker_holding_a_recorded_message(pid: int, broker: redis.Redis, tasks: tuple[str, ...],
                                           timeout: float = 60.0) -> tuple[list[psutil.Process], HeldMessage]:
    """``kill -9`` a worker of prefetch 1 (main process and pool children) on a Redis broker, under load, while it runs
    a task of ``tasks`` whose message the broker has recorded as unacked — so that the broker must hand it to another
    worker, and the work waits for that.

    kombu records a message as unacked (HSET ``unacked``) only after its BRPOP returned: a kill between the two loses
    the message (the gap docs/operations.md describes; RabbitMQ has none). MONITOR shows the main process's commands
    as Redis runs them: once the recording of a message is its last (no ack, HDEL, and no BRPOP since), the worker is
    stopped (SIGSTOP, children too, mid-task), and if after a pause that is still so, killed."""
    seen: list[tuple[str, int, str, str]] = []
    lock = threading.Lock()
    watching = threading.Event()

    def monitor() -> None:
        with broker.monitor() as stream:
            watching.set()
            while watching.is_set():
                command = stream.next_command()
                verb = command["command"].split(" ", 2)
                if verb[0] == "BRPOP" or verb[:2] in (["HSET", "unacked"], ["HDEL", "unacked"]):
                    with lock:
                        seen.append((command["client_address"], int(command["client_port"]), verb[0], verb[-1]))

    def held() -> HeldMessage | None:
        """The message the main process recorded last, unless it acked it or popped another since."""
        endpoints = tcp_endpoints(pid)
        with lock:
            verb, recorded = next(((verb, rest) for address, port, verb, rest in reversed(seen)
                                   if (address, port) in endpoints), ("", ""))
        # MONITOR quotes and escapes what it shows: read the message's headers, never its body (base64).
        task, task_id = (re.search(rf'"{key}\\?"\s*:\s*\\?"([\w.-]+)', recorded) for key in ("task", "id"))
        if verb != "HSET" or not (task and task_id) or task.group(1) not in tasks:
            return None
        return HeldMessage(task.group(1), task_id.group(1))

    threading.Thread(target=monitor, name="redis-monitor", daemon=True).start()
    try:
        watching.wait(5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if held() is None:
                time.sleep(0.001)
                continue
            processes = worker_processes(pid)
            for process in processes:
                process.suspend()
            time.sleep(0.3)  # what it sent before the stop reaches Redis and the monitor
            if message := held():
                kill_processes(processes)
                return processes, message
            for process in processes:
                process.resume()
        raise RuntimeError(f"worker {pid} ran none of {tasks} at a moment it could be stopped in {timeout:g} s")
    finally:
        watching.clear()
        broker.ping()  # one more command, so that the monitor's next_command returns and its thread ends
