"""Adapters that put today's monocular depth and normal models on the leaderboard, from weights the user
downloaded once (``--weights PATH`` or the ``$HUMANDEPTH_WEIGHTS`` file; nothing is downloaded at run time).

- :mod:`~humandepth.baselines.models.hf`: any local ``transformers`` depth-estimation folder (Depth Anything V2,
  DPT/MiDaS, ZoeDepth, GLPN, Depth Pro);
- :mod:`~humandepth.baselines.models.david`: Microsoft DAViD's ONNX depth, normal and multi-task models;
- :mod:`~humandepth.baselines.models.sapiens`: Meta's Sapiens TorchScript depth and normal models;
- :mod:`~humandepth.baselines.models.tiny`: tiny random models in each of these formats (tests, benchmarks).

Each records its model's output kind as the predictions' ``depth_kind`` and returns depth (and normals, when the
model has them) at the sample's resolution.  The optional packages come with ``pip install 'humandepth[models]'``.
"""
