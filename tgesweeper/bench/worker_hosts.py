"""Worker "hosts" on one machine, for the scale-out benchmark: each a Linux network namespace of its own with its own
address, joined to the machine by a veth pair on a private bridge (iproute2), so that its Celery worker reaches the
broker, the database and the feeds over a network, as a second machine would.

The bridge takes the first free 10.231.K.0/24 (the bridge's address ``.1`` is where the benchmark's servers and
forwarders listen; host N gets ``.N+1``). ``with HostNetwork(n)`` creates everything and removes everything on the way
out — an error, Ctrl-C or SIGTERM included: the processes left in the namespaces, the namespaces, the bridge.
Where namespaces cannot be made (not root, no ``ip``, no privilege), ``namespaces_unavailable()`` says why and
``PlainHosts`` gives the same interface with every host a plain process on 127.0.0.1.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass
from typing import Any

import psutil

SUBNETS = "10.231"
NAMESPACE_PREFIX = "tgesweeper-"
LOOPBACK = "127.0.0.1"


class HostNetworkError(RuntimeError):
    pass


@dataclass(frozen=True)
class Host:
    label: str
    address: str
    namespace: str = ""  # empty: a plain process of this machine
    veth: str = ""  # the root side of its veth pair

    @property
    def run_in(self) -> tuple[str, ...]:
        return ("ip", "netns", "exec", self.namespace) if self.namespace else ()


def _ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if done.returncode:
        raise HostNetworkError(f"ip {' '.join(args)}: {done.stderr.strip() or done.returncode}")
    return done.stdout


def namespaces_unavailable() -> str | None:
    """Why this process cannot create network namespaces, or None when it can (it tries one)."""
    if os.geteuid() != 0:
        return "creating network namespaces needs root"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed"
    probe = f"{NAMESPACE_PREFIX}probe-{os.getpid()}"
    try:
        _ip("netns", "add", probe)
    except HostNetworkError as exc:
        return str(exc)
    _ip("netns", "delete", probe)
    return None


class PlainHosts:
    """The fallback: ``count`` hosts that are plain processes on 127.0.0.1."""

    gateway = LOOPBACK
    description = "plain processes on 127.0.0.1"

    def __init__(self, count: int, why: str = ""):
        self.hosts = [Host(f"host {n + 1}", LOOPBACK) for n in range(count)]
        if why:
            self.description += f" ({why})"

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


class HostNetwork:
    """A bridge ``tgebrK`` at 10.231.K.1/24 and ``count`` namespaces ``tgesweeper-K-N``, each with an ``eth0`` at
    10.231.K.(N+2) whose veth peer ``tgeKhN`` is on the bridge."""

    def __init__(self, count: int):
        self.count = count
        self.bridge = ""
        self.gateway = ""
        self.hosts: list[Host] = []
        self._previous_sigterm: Any = None

    @property
    def description(self) -> str:
        return f"network namespaces on {self.gateway.rsplit('.', 1)[0]}.0/24 (bridge {self.bridge})"

    def __enter__(self) -> HostNetwork:
        if threading.current_thread() is threading.main_thread():  # SIGTERM too leaves through __exit__
            self._previous_sigterm = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        try:
            self._create()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    def _claim_subnet(self) -> int:
        """The first K whose subnet no interface and whose names no namespace uses, and whose bridge this call could
        create (two benchmarks at once each get their own; the leftovers of a benchmark killed -9 are skipped)."""
        used, namespaces = _ip("-o", "-4", "addr", "show"), _ip("netns", "list")
        for k in range(256):
            if f" {SUBNETS}.{k}." in used or f"{NAMESPACE_PREFIX}{k}-" in namespaces:
                continue
            try:
                _ip("link", "add", f"tgebr{k}", "type", "bridge")
            except HostNetworkError:
                continue
            self.bridge = f"tgebr{k}"
            return k
        raise HostNetworkError(f"no free subnet in {SUBNETS}.0.0/16")

    def _create(self) -> None:
        k = self._claim_subnet()
        self.gateway = f"{SUBNETS}.{k}.1"
        _ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for n in range(self.count):
            host = Host(f"host {n + 1}", f"{SUBNETS}.{k}.{n + 2}", f"{NAMESPACE_PREFIX}{k}-{n + 1}", f"tge{k}h{n + 1}")
            _ip("netns", "add", host.namespace)
            self.hosts.append(host)
            _ip("link", "add", host.veth, "type", "veth", "peer", "name", "eth0", "netns", host.namespace)
            _ip("link", "set", host.veth, "master", self.bridge, "up")
            _ip("-n", host.namespace, "addr", "add", f"{host.address}/24", "dev", "eth0")
            _ip("-n", host.namespace, "link", "set", "eth0", "up")
            _ip("-n", host.namespace, "link", "set", "lo", "up")

    def remove(self) -> None:
        """Kill what still runs in the namespaces (only this network's), delete their veth pairs (the kernel would
        only some time after the namespace), the namespaces and the bridge. Goes on past errors; raises the first at
        the end."""
        problems = []
        for host in self.hosts:
            try:
                for pid in _ip("netns", "pids", host.namespace).split():
                    _kill(int(pid))
                if host.veth in _ip("-br", "link", "show"):
                    _ip("link", "delete", host.veth)
                _ip("netns", "delete", host.namespace)
            except HostNetworkError as exc:
                problems.append(exc)
        self.hosts = []
        if self.bridge:
            try:
                _ip("link", "delete", self.bridge)
            except HostNetworkError as exc:
                problems.append(exc)
            self.bridge = ""
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None
        if problems:
            raise problems[0]


def _kill(pid: int) -> None:
    try:
        process = psutil.Process(pid)
        process.kill()
        process.wait(10)
    except psutil.NoSuchProcess:
        pass


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


def worker_hosts(count: int) -> HostNetwork | PlainHosts:
    """Namespaced hosts where this machine allows them; otherwise plain processes, saying why."""
    why = namespaces_unavailable()
    return PlainHosts(count, why) if why else HostNetwork(count)
