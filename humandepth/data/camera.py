"""Pinhole camera in the OpenCV convention (see :mod:`humandepth.data.conventions`)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Camera:
    """A pinhole camera.

    Attributes:
        K: (3, 3) float64 intrinsics in pixels; pixel centres at integer coordinates.
        width, height: image size in pixels.
        cam_from_world: (4, 4) float64 rigid transform taking world points (metres, +Y up) to the
            OpenCV camera frame (x right, y down, z forward).  Identity when the world is the camera.
    """

    K: np.ndarray
    width: int
    height: int
    cam_from_world: np.ndarray = field(default_factory=lambda: np.eye(4))

    def __post_init__(self) -> None:
        self.K = np.asarray(self.K, dtype=np.float64)
        self.cam_from_world = np.asarray(self.cam_from_world, dtype=np.float64)
        self.width, self.height = int(self.width), int(self.height)
        if self.K.shape != (3, 3):
            raise ValueError(f"Camera.K must be 3x3, got shape {self.K.shape}")
        if self.cam_from_world.shape != (4, 4):
            raise ValueError(f"Camera.cam_from_world must be 4x4, got shape {self.cam_from_world.shape}")
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"Camera size must be positive, got {self.width}x{self.height}")
        if not (np.all(np.isfinite(self.K)) and self.K[0, 0] > 0 and self.K[1, 1] > 0):
            raise ValueError(f"Camera.K needs finite positive focal lengths, got fx={self.K[0, 0]}, fy={self.K[1, 1]}")

    @classmethod
    def from_fov(cls, width: int, height: int, fov_y_deg: float, cam_from_world=None) -> Camera:
        """A camera with square pixels, a centred principal point and vertical field of view ``fov_y_deg``."""
        fy = 0.5 * height / math.tan(math.radians(fov_y_deg) / 2)
        return cls.from_focal(width, height, fy, cam_from_world)

    @classmethod
    def from_focal(cls, width: int, height: int, f_px: float, cam_from_world=None) -> Camera:
        """A camera with focal length ``f_px`` (pixels) and principal point at the image centre."""
        K = np.array([[f_px, 0, width / 2 - 0.5], [0, f_px, height / 2 - 0.5], [0, 0, 1]], dtype=np.float64)
        return cls(K, width, height, np.eye(4) if cam_from_world is None else cam_from_world)

    @property
    def fx(self) -> float:
        return float(self.K[0, 0])

    @property
    def fy(self) -> float:
        return float(self.K[1, 1])

    @property
    def cx(self) -> float:
        return float(self.K[0, 2])

    @property
    def cy(self) -> float:
        return float(self.K[1, 2])

    @property
    def world_from_cam(self) -> np.ndarray:
        return np.linalg.inv(self.cam_from_world)

    def rays(self) -> np.ndarray:
        """(H, W, 3) float64 ray directions in the camera frame with z = 1 (so t along them is planar depth)."""
        u, v = np.meshgrid(np.arange(self.width, dtype=np.float64), np.arange(self.height, dtype=np.float64))
        x = (u - self.cx) / self.fx
        y = (v - self.cy) / self.fy
        return np.stack([x, y, np.ones_like(x)], axis=-1)

    def project(self, points_cam: np.ndarray) -> np.ndarray:
        """(N, 3) camera-frame points (metres) -> (N, 2) pixel coordinates."""
        p = np.asarray(points_cam, dtype=np.float64)
        return (p[:, :2] / p[:, 2:3]) * [self.fx, self.fy] + [self.cx, self.cy]

    def resized(self, width: int, height: int) -> Camera:
        """The same camera seen at another image size (pixel-centre convention preserved)."""
        sx, sy = width / self.width, height / self.height
        K = self.K.copy()
        K[0, 0] *= sx
        K[1, 1] *= sy
        K[0, 2] = (K[0, 2] + 0.5) * sx - 0.5
        K[1, 2] = (K[1, 2] + 0.5) * sy - 0.5
        return Camera(K, width, height, self.cam_from_world.copy())

    def to_dict(self) -> dict:
        return {
            "K": self.K.tolist(),
            "width": self.width,
            "height": self.height,
            "cam_from_world": self.cam_from_world.tolist(),
            "convention": "opencv; pixel centres at integer coordinates; metres",
        }

    @classmethod
    def from_dict(cls, d: dict) -> Camera:
        try:
            return cls(d["K"], d["width"], d["height"], d.get("cam_from_world", np.eye(4)))
        except KeyError as e:
            raise ValueError(f"camera description lacks the field {e.args[0]!r} (needs K, width, height)") from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Camera:
        return cls.from_dict(json.loads(text))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Camera):
            return NotImplemented
        return (
            self.width == other.width
            and self.height == other.height
            and np.array_equal(self.K, other.K)
            and np.array_equal(self.cam_from_world, other.cam_from_world)
        )


def look_at(eye, target, up=(0.0, 1.0, 0.0), roll_rad: float = 0.0) -> np.ndarray:
    """(4, 4) float64 ``cam_from_world`` of an OpenCV camera at ``eye`` looking at ``target`` (world metres).

    The camera's x axis (image right) is ``view x up`` and its y axis (image down) ``view x x``, so world ``up``
    (default +Y) points up in the image; ``roll_rad`` then turns the camera about its viewing axis (x towards
    y).  Looking straight along ``up`` leaves that undefined: the image right is then world +X.  The one
    definition for every wing (render's cameras, capture's trajectories, the tests' scenes).
    """
    eye, target, up = (np.asarray(a, dtype=np.float64) for a in (eye, target, up))
    z = target - eye
    norm = np.linalg.norm(z)
    if norm < 1e-12:
        raise ValueError(f"look_at: the camera at {eye.tolist()} cannot look at the point it stands on")
    z = z / norm
    x = np.cross(z, up)
    if np.linalg.norm(x) < 1e-9:  # looking straight up or down
        x = np.array([1.0, 0.0, 0.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    c, s = np.cos(roll_rad), np.sin(roll_rad)
    x, y = c * x + s * y, -s * x + c * y
    R = np.stack([x, y, z])  # rows: the camera's axes in world coordinates
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = -R @ eye
    return T
