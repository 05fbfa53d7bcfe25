"""humandepth: detailed human depth from a single image.

Toolkit around Tang et al., "A Neural Network for Detailed Human Depth Estimation from a Single
Image", ICCV 2019.  Wings (each a subpackage): ``data`` (the contract every other wing obeys),
``render``, ``capture``, ``fuse``, ``benchmark``, ``baselines``.  Importing ``humandepth`` is cheap:
heavy dependencies are imported by the wing that needs them.
"""

__version__ = "0.1.0"
