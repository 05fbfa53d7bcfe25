"""Baselines: methods that write predictions files for the benchmark.

Classical ones (:mod:`humandepth.baselines.classical`) and the reference network of Tang et al. 2019
with its ablations (:mod:`humandepth.baselines.reference`).  All are listed in
:mod:`humandepth.baselines.registry` and run by :func:`humandepth.baselines.run.run_baseline`.
"""
