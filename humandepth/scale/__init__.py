"""Scale-out: run render shards, fuse takes and benchmark sample blocks locally or on a Ray cluster.

- :mod:`humandepth.scale.executor`: :class:`Task`, :class:`LocalExecutor`, :class:`RayExecutor`,
  :func:`make_executor` (independent tasks, results in task order, progress, retries of dead workers);
- :mod:`humandepth.scale.ray_cluster`: connect to a cluster (or start a local one) and report its CPUs/GPUs;
- :mod:`humandepth.scale.options`: the ``--executor`` / ``--address`` / ``--max-retries`` command-line options.

Importing this package is cheap: Ray is imported only inside the functions that use it.
"""
