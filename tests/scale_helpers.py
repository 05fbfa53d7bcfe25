"""A real Ray cluster on loopback for the scale tests: a head node plus one worker node, torn down exactly.

Each node is started by ``ray start`` in a new session (its own process group), so the teardown ends exactly the
processes of this cluster (SIGTERM to those groups, then SIGKILL, then any worker whose command line names this
cluster's temp dir) and never anyone else's Ray; ``ray stop`` has no way to name one cluster, so it is not used.
The cluster's temp dir (``--temp-dir``) is under the test's tmp path.
The cluster uses Ray's token authentication with a token of its own (``RAY_AUTH_MODE=token``, ``RAY_AUTH_TOKEN``;
the driver must set :attr:`RayTestCluster.driver_env` too), so it neither depends on nor touches
``~/.ray/auth_token``.  The nodes' environment carries ``HUMANDEPTH_TEST_FAULT_DIR`` and puts
``tests/ray_faults`` on ``PYTHONPATH`` (its ``sitecustomize`` hook), so a test makes the first attempt of one task
kill its worker by creating ``fault_dir / <task key>``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

FAULT_ENV = "HUMANDEPTH_TEST_FAULT_DIR"  # read by tests/ray_faults/sitecustomize.py in the nodes' processes
FAULT_HOOK = Path(__file__).resolve().parent / "ray_faults"
RAY = str(Path(sys.executable).with_name("ray"))
SOCKET_ROOM = 107 - len("/session_2026-01-01_00-00-00_000000_1234567/sockets/plasma_store")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RayTestCluster:
    address: str
    temp_dir: Path
    fault_dir: Path
    driver_env: dict[str, str]
    groups: list[int] = field(default_factory=list)

    def stop(self) -> None:
        """End this cluster's processes: its process groups, then any process naming its temp dir."""
        for sig, wait_s in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 2.0)):
            for pgid in self.groups:
                try:
                    os.killpg(pgid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.time() + wait_s
            while time.time() < deadline and any(_alive(g) for g in self.groups):
                time.sleep(0.2)
            if not any(_alive(g) for g in self.groups):
                break
        for pid in _pids_using(self.temp_dir):  # worker processes Ray started in process groups of their own
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.temp_dir.parent == Path("/tmp"):
            shutil.rmtree(self.temp_dir, ignore_errors=True)


def _pids_using(temp_dir: Path) -> list[int]:
    """Processes whose command line names this cluster's (unique) temp dir: this cluster's own processes."""
    needle = str(temp_dir).encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if needle in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:
            pass
    return pids


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _ray_start(args: list[str], env: dict, log: Path) -> int:
    """Run ``ray start ARGS`` in a new session; return its process group (the nodes' processes stay in it)."""
    with open(log, "ab") as out:
        proc = subprocess.Popen([RAY, "start", *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            rc = proc.wait(timeout=180)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    if rc != 0:
        os.killpg(proc.pid, signal.SIGKILL) if _alive(proc.pid) else None
        raise RuntimeError(f"ray start {' '.join(args)} failed ({rc}): {log.read_text()[-2000:]}")
    return proc.pid


def start_cluster(root: Path, head_cpus: int = 1, worker_cpus: int = 1, worker_gpus: int = 0) -> RayTestCluster:
    """A head (``head_cpus`` CPUs, no GPU) and one worker node (``worker_cpus`` CPUs, ``worker_gpus`` GPUs as Ray
    resources: with no GPU in the machine they are logical only) on 127.0.0.1, no dashboard."""
    if shutil.which(RAY) is None and not Path(RAY).exists():
        raise RuntimeError(f"the ray command is not beside {sys.executable}: ray (pinned) is not installed whole")
    root.mkdir(parents=True, exist_ok=True)
    temp_dir = root / "ray"
    if len(str(temp_dir)) > SOCKET_ROOM:  # Ray's unix socket paths (under the temp dir) must stay < 108 bytes
        temp_dir = Path("/tmp") / f"hdray-{os.getpid()}-{free_port()}"
    fault_dir = root / "faults"
    fault_dir.mkdir(exist_ok=True)
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", **auth, **{FAULT_ENV: str(fault_dir)})
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(FAULT_HOOK), os.environ.get("PYTHONPATH")) if p)
    env.pop("RAY_ADDRESS", None)
    env.pop("RAY_AUTH_TOKEN_PATH", None)
    port = free_port()
    common = ["--node-ip-address", "127.0.0.1", "--object-store-memory", str(100 * 1024**2),
              "--disable-usage-stats"]
    cluster = RayTestCluster(f"127.0.0.1:{port}", temp_dir, fault_dir, auth)
    log = root / "ray_start.log"
    try:
        cluster.groups.append(_ray_start(["--head", "--port", str(port), "--num-cpus", str(head_cpus),
                                          "--num-gpus", "0", "--include-dashboard=false", "--temp-dir", str(temp_dir),
                                          *common],
                                         env, log))
        cluster.groups.append(_ray_start(["--address", cluster.address, "--num-cpus", str(worker_cpus),
                                          "--num-gpus", str(worker_gpus), *common],
                                         env, log))
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _reload_ray_auth() -> None:
    """Make this process's Ray re-read its authentication settings from the environment (Ray caches them)."""
    from ray._private.authentication_test_utils import reset_auth_token_state

    reset_auth_token_state()


@contextlib.contextmanager
def connected_cluster(root: Path, **kwargs):
    """:func:`start_cluster`, with this process connected to it as the driver (its token set in the environment
    while connected); yields ``(cluster, ClusterInfo)``; disconnects, stops the cluster and restores the
    environment on exit."""
    from humandepth.scale.ray_cluster import connect, disconnect

    c = start_cluster(root, **kwargs)
    saved = {k: os.environ.get(k) for k in (*c.driver_env, "RAY_AUTH_TOKEN_PATH")}
    os.environ.pop("RAY_AUTH_TOKEN_PATH", None)
    os.environ.update(c.driver_env)
    info = None
    try:
        _reload_ray_auth()
        info = connect(c.address)
        yield c, info
    finally:
        disconnect(info)
        c.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        _reload_ray_auth()
