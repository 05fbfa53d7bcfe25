"""``humandepth demo``: the main job on built-in defaults (see :mod:`humandepth.demo.run`)."""
