"""The reference network of Tang et al. (ICCV 2019) in torch: train, predict, ablate.

Modules, one job each: ``config`` (presets and variants), ``blocks`` / ``subnets`` / ``model`` (the
networks), ``refine`` (the Tang refinement layer and GeoNet kernel regression), ``crop`` and ``targets``
(person crop and training targets), ``losses``, ``train``, ``checkpoint``, ``predict`` (the registered
baseline class) and ``cli`` (``humandepth baselines train reference``).  Documentation: docs/reference.md.
"""
