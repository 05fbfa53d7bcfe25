"""The conventions every dataset, loader and predictions file obeys (one place, stored with the data).

- Units: metres.  World frame right-handed, +Y up.
- Camera: OpenCV frame (x right, y down, z forward).  ``K`` 3x3 in pixels with pixel *centres* at
  integer coordinates (a centred principal point is ``cx = W/2 - 0.5``).  ``cam_from_world`` 4x4.
- depth: float32 (H, W), planar z along the optical axis (not ray length), metres, ``0`` = no value.
- mask: bool (H, W), the person, from geometry (never from RGB alpha).
- normal: float32 (H, W, 3) unit vectors in the OpenCV camera frame facing the camera
  (n . ray < 0), ``(0, 0, 0)`` where there is no value.
- parts: uint8 (H, W), 0 = background, 1..14 = the 14 body parts of the paper's segmentation net.
- joints: the paper's 16 joints (:data:`JOINT_NAMES`); ``joints2d`` (16, 2) float32 pixels,
  ``joints3d`` (16, 3) float32 metres in the camera frame.
- base / detail: ``depth_base`` = edge-preserving smoothing of depth inside the mask
  (:mod:`humandepth.data.base_detail`), ``depth_detail = depth - depth_base``.
"""

from __future__ import annotations

CONVENTIONS_VERSION = "1.0"

JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "right_hip", "left_hip", "right_knee", "left_knee", "chest", "right_foot", "left_foot",
    "neck", "head", "right_shoulder", "left_shoulder", "right_elbow", "left_elbow", "right_hand",
    "left_hand",
)

PART_NAMES: tuple[str, ...] = (
    "background", "head", "torso", "right_upper_arm", "left_upper_arm", "right_lower_arm",
    "left_lower_arm", "right_hand", "left_hand", "right_upper_leg", "left_upper_leg",
    "right_lower_leg", "left_lower_leg", "right_foot", "left_foot",
)

CONVENTIONS: dict[str, str] = {
    "version": CONVENTIONS_VERSION,
    "units": "metres",
    "world_frame": "right-handed, +Y up",
    "camera_frame": "OpenCV: x right, y down, z forward",
    "intrinsics": "K in pixels, pixel centres at integer coordinates (centred cx = W/2 - 0.5)",
    "depth": "float32 planar z along the optical axis, metres, 0 = no value",
    "mask": "bool, the person, from geometry",
    "normal": "float32 unit vectors, OpenCV camera frame, facing the camera, (0,0,0) = no value",
    "parts": "uint8, 0 background, 1..14 body parts (Tang et al. 2019)",
    "joints": "16 joints (Tang et al. 2019): joints2d pixels, joints3d metres camera frame",
    "base_detail": "depth_base = masked bilateral smoothing of depth, depth_detail = depth - depth_base",
}
