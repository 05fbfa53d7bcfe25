"""Connect to a Ray cluster (or start a local one) and describe it.

``connect(None)`` starts a local single-node cluster in this process (``ray.init()``); ``connect("HOST:PORT")``
joins an existing cluster started with ``ray start --head`` (``"auto"``: the cluster started on this machine).
An address that does not answer fails within seconds with a message that names it, instead of Ray's minutes of
retries.  Ray is imported only inside these functions.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class ClusterInfo:
    """What the driver is connected to.

    Attributes:
        address: the GCS address (``HOST:PORT``) of the cluster.
        requested: the address that was asked for (None: a local cluster was started).
        owned: True when this call initialised the connection (and :func:`disconnect` should end it).
        nodes: alive nodes.
        cpus: total CPUs of the cluster (Ray's logical ``CPU`` resource).
        gpus: total GPUs of the cluster (Ray's ``GPU`` resource; 0 on CPU-only clusters).
    """

    address: str
    requested: str | None
    owned: bool
    nodes: int
    cpus: float
    gpus: float

    def describe(self) -> str:
        where = "local Ray cluster" if self.requested is None else f"Ray cluster at {self.address}"
        return f"{where}: {self.nodes} node(s), {self.cpus:g} CPU(s), {self.gpus:g} GPU(s)"


def _probe(address: str) -> None:
    """Fail fast, naming ``address``, when nothing listens there (Ray itself retries for minutes)."""
    host, sep, port = address.rpartition(":")
    if address.startswith("ray://"):
        raise ValueError(f"--address {address!r}: Ray Client addresses (ray://) are not supported; give the "
                         "GCS address HOST:PORT of the head node (the one `ray start --head` prints)")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f"--address {address!r} is not HOST:PORT (the address `ray start --head` prints) or 'auto'")
    try:
        with socket.create_connection((host, int(port)), timeout=PROBE_TIMEOUT_S):
            pass
    except OSError as e:
        raise ConnectionError(f"cannot connect to the Ray cluster at {address}: {e.strerror or e} (is `ray start "
                              "--head` running there, and is the port reachable from this machine?)") from None


def _describe(requested: str | None, owned: bool) -> ClusterInfo:
    import ray

    res = ray.cluster_resources()
    nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
    ctx = ray.get_runtime_context()
    address = getattr(ctx, "gcs_address", None) or str(requested)
    return ClusterInfo(address=address, requested=requested, owned=owned, nodes=nodes,
                       cpus=float(res.get("CPU", 0.0)), gpus=float(res.get("GPU", 0.0)))


def connect(address: str | None = None, *, num_cpus: int | None = None) -> ClusterInfo:
    """Connect this process to a Ray cluster and return what it holds.

    Args:
        address: ``HOST:PORT`` of a running cluster's head (GCS), ``"auto"`` (the cluster started on this
            machine), or None to start a local cluster in this process.  If this process is already connected,
            the connection is reused (its address must match when one is given).
        num_cpus: CPUs of a local cluster started here (None: all of this machine's); ignored with ``address``.

    Raises:
        ConnectionError: nothing answers at ``address`` (the message names it).
        ValueError: ``address`` is malformed, or differs from the cluster this process is already connected to.
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no network at run time
    import ray

    if ray.is_initialized():
        info = _describe(address, owned=False)
        if address not in (None, "auto") and info.address.rpartition(":")[2] != address.rpartition(":")[2]:
            raise ValueError(f"this process is already connected to the Ray cluster at {info.address}, not "
                             f"--address {address}")
        return info
    if address is None:
        if num_cpus is not None and num_cpus < 1:
            raise ValueError(f"a local Ray cluster needs at least 1 CPU, got {num_cpus}")
        ray.init(num_cpus=num_cpus, include_dashboard=False, logging_level="WARNING", log_to_driver=True,
                 configure_logging=True)
        return _describe(None, owned=True)
    if address != "auto":
        _probe(address)
    try:
        ray.init(address=address, logging_level="WARNING", log_to_driver=True)
    except (ConnectionError, RuntimeError, TimeoutError) as e:
        raise ConnectionError(f"cannot connect to the Ray cluster at {address}: {e}") from None
    return _describe(address, owned=True)


def disconnect(info: ClusterInfo | None) -> None:
    """End this process's connection if :func:`connect` opened it (a local cluster started here stops with it)."""
    if info is None or not info.owned:
        return
    import ray

    if ray.is_initialized():
        ray.shutdown()
