"""Body poses as anatomical joint angles: a library of key poses plus random variation within limits.

A pose is ``{joint: (flex, abduct, twist)}`` in degrees, relative to the body model's rest pose (anny's rest
pose is an A-pose: arms ~42 degrees from the body).  The three angles rotate the joint's distal segment
about axes computed from the rest skeleton (:func:`joint_axes`):

- ``flex``: forward for the spine, neck, head, shoulders, elbows, wrists, hips and ankles (toes up); knees
  flex backwards;
- ``abduct``: away from the body's midline (sideways to the body's own left for the spine, neck and head);
- ``twist``: about the segment itself.

:data:`LIMITS` are the anatomical ranges every sampled angle is clipped to; :data:`KEY_POSES` are named
poses the sampler starts from (standing, walking, reaching, crouching, ...).
"""

from __future__ import annotations

import numpy as np

JOINTS = ("spine", "chest", "neck", "head", "l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist",
          "r_wrist", "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle")

# (min, max) degrees for (flex, abduct, twist); shoulder abduction counts from the A-pose.
_L = {
    "spine": ((-15, 30), (-15, 15), (-25, 25)),
    "chest": ((-10, 20), (-10, 10), (-20, 20)),
    "neck": ((-20, 30), (-20, 20), (-40, 40)),
    "head": ((-15, 20), (-10, 10), (-20, 20)),
    "shoulder": ((-40, 140), (-40, 100), (-45, 45)),
    "elbow": ((0, 135), (0, 0), (-30, 30)),
    "wrist": ((-50, 50), (-20, 20), (0, 0)),
    "hip": ((-25, 95), (-10, 40), (-25, 25)),
    "knee": ((0, 125), (0, 0), (-5, 5)),
    "ankle": ((-25, 30), (-10, 10), (0, 0)),
}
LIMITS: dict[str, tuple] = {j: _L[j.split("_")[-1]] for j in JOINTS}

# Per-DOF standard deviation (degrees) of the random variation added to a key pose.
NOISE_DEG: dict[str, tuple[float, float, float]] = {
    "spine": (6, 5, 8), "chest": (4, 3, 6), "neck": (8, 6, 15), "head": (6, 5, 8),
    "shoulder": (15, 12, 15), "elbow": (18, 0, 10), "wrist": (12, 6, 0), "hip": (10, 6, 8),
    "knee": (10, 0, 2), "ankle": (6, 3, 0),
}


def _sym(pose: dict) -> dict:
    """Expand ``"x_*"`` entries (both sides) into ``l_*`` and ``r_*``."""
    out = {}
    for k, v in pose.items():
        if k.startswith("x_"):
            out["l_" + k[2:]] = v
            out["r_" + k[2:]] = v
        else:
            out[k] = v
    return out


def _mirror(pose: dict) -> dict:
    out = {}
    for k, (f, a, t) in pose.items():
        if k.startswith("l_"):
            out["r_" + k[2:]] = (f, a, -t)
        elif k.startswith("r_"):
            out["l_" + k[2:]] = (f, a, -t)
        else:
            out[k] = (f, -a, -t)
    return out


_BASE = {
    "a_pose": {},
    "t_pose": {"x_shoulder": (0, 46, 0)},
    "relaxed": {"x_shoulder": (0, -32, 0), "x_elbow": (12, 0, 0)},
    "walk_left": {"l_hip": (28, 0, 0), "r_hip": (-14, 0, 0), "l_knee": (8, 0, 0), "r_knee": (25, 0, 0),
                  "r_ankle": (-8, 0, 0), "l_shoulder": (-18, -32, 0), "r_shoulder": (22, -32, 0),
                  "x_elbow": (22, 0, 0), "spine": (0, 0, 6)},
    "hands_on_hips": {"x_shoulder": (-22, -8, 25), "x_elbow": (95, 0, 0), "x_wrist": (0, 10, 0)},
    "reach_up_left": {"l_shoulder": (20, 95, 0), "l_elbow": (10, 0, 0), "r_shoulder": (5, -28, 0),
                      "r_elbow": (15, 0, 0), "spine": (0, 6, 0)},
    "arms_forward": {"x_shoulder": (75, -28, 0), "x_elbow": (20, 0, 0)},
    "contrapposto": {"l_hip": (4, 6, 0), "r_hip": (12, -4, 0), "r_knee": (18, 0, 0), "spine": (0, -4, 0),
                     "chest": (0, 4, 0), "x_shoulder": (0, -30, 0), "x_elbow": (15, 0, 0), "head": (0, 4, 0)},
    "crouch": {"x_hip": (70, 12, 0), "x_knee": (95, 0, 0), "x_ankle": (22, 0, 0), "spine": (22, 0, 0),
               "x_shoulder": (45, -22, 0), "x_elbow": (30, 0, 0)},
    "phone_right": {"r_shoulder": (30, -12, -10), "r_elbow": (105, 0, 0), "l_shoulder": (0, -30, 0),
                    "l_elbow": (20, 0, 0), "neck": (8, 0, 0)},
    "wave_left": {"l_shoulder": (10, 55, 0), "l_elbow": (100, 0, 40), "r_shoulder": (0, -30, 0),
                  "r_elbow": (10, 0, 0)},
    "lunge_left": {"l_hip": (60, 5, 0), "l_knee": (70, 0, 0), "r_hip": (-15, 0, 0), "r_knee": (15, 0, 0),
                   "l_ankle": (12, 0, 0), "x_shoulder": (5, -25, 0), "x_elbow": (25, 0, 0), "spine": (8, 0, 0)},
    "look_around": {"neck": (0, 0, 30), "head": (5, 0, 12), "x_shoulder": (0, -30, 0), "chest": (0, 0, 10)},
}


def _build_library() -> dict[str, dict]:
    lib = {}
    for name, pose in _BASE.items():
        pose = _sym(pose)
        lib[name] = pose
        if name.endswith("_left"):
            lib[name[: -len("_left")] + "_right"] = _mirror(pose)
        elif name.endswith("_right"):
            lib[name[: -len("_right")] + "_left"] = _mirror(pose)
    return lib


KEY_POSES: dict[str, dict] = _build_library()


def clip_pose(pose: dict) -> dict:
    """Clip every angle to :data:`LIMITS`; unknown joint names raise ValueError."""
    out = {}
    for joint, angles in pose.items():
        if joint not in LIMITS:
            raise ValueError(f"unknown joint {joint!r}; known: {', '.join(JOINTS)}")
        out[joint] = tuple(float(np.clip(a, lo, hi)) for a, (lo, hi) in zip(angles, LIMITS[joint], strict=True))
    return out


def sample_pose(rng: np.random.Generator, key_poses: tuple[str, ...] | None = None, variation: float = 1.0):
    """``(name, pose)``: a key pose plus Gaussian variation (scaled by ``variation``), clipped to the limits."""
    names = sorted(KEY_POSES) if not key_poses else list(key_poses)
    for n in names:
        if n not in KEY_POSES:
            raise ValueError(f"unknown key pose {n!r}; known: {', '.join(sorted(KEY_POSES))}")
    name = names[int(rng.integers(len(names)))]
    base = KEY_POSES[name]
    pose = {}
    for joint in JOINTS:
        f, a, t = base.get(joint, (0.0, 0.0, 0.0))
        sf, sa, st = NOISE_DEG[joint.split("_")[-1]]
        noise = rng.normal(size=3) * np.array([sf, sa, st]) * variation
        pose[joint] = (f + noise[0], a + noise[1], t + noise[2])
    return name, clip_pose(pose)


def _rotvec_to_matrix(v: np.ndarray) -> np.ndarray:
    angle = float(np.linalg.norm(v))
    if angle < 1e-12:
        return np.eye(3)
    k = v / angle
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle) * kx + (1 - np.cos(angle)) * kx @ kx


def joint_rotation(axes: dict, joint: str, angles) -> np.ndarray:
    """3x3 rotation (in the body model's rest frame) for ``(flex, abduct, twist)`` degrees at ``joint``."""
    flex_axis, abduct_axis, twist_axis = axes[joint]
    f, a, t = np.radians(np.asarray(angles, np.float64))
    return _rotvec_to_matrix(f * flex_axis) @ _rotvec_to_matrix(a * abduct_axis) @ _rotvec_to_matrix(t * twist_axis)


def joint_axes(direction: dict[str, np.ndarray], front: np.ndarray, left: np.ndarray, up: np.ndarray) -> dict:
    """Per joint (flex, abduct, twist) unit axes from each joint's rest segment ``direction``.

    ``front``/``left``/``up``: the body's forward, (own) left and up unit vectors in the model frame.
    """
    axes = {}
    for joint in JOINTS:
        d = direction[joint] / np.linalg.norm(direction[joint])
        kind = joint.split("_")[-1]
        flex_towards = -front if kind == "knee" else front
        if kind == "ankle":
            flex_towards = up  # toes up
        fa = np.cross(d, flex_towards)
        # abduction turns the segment in the body's frontal plane, away from the midline
        aa = (front if joint.startswith("l_") else -front) - d * (d @ front)
        if kind in ("spine", "chest", "neck", "head"):
            aa = np.cross(d, left)
        axes[joint] = (fa / np.linalg.norm(fa), aa / max(np.linalg.norm(aa), 1e-12), d)
    return axes
