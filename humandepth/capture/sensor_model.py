"""A D400-like active-stereo depth sensor model: exact depth in, z16 depth units out.

Stereo measures disparity ``d = f * B / z`` (pixels).  The model perturbs disparity, not depth:

* random noise ``N(0, subpixel_px)`` per pixel (optionally spatially correlated, same variance), so
  the depth spread is ``sigma_z(z) = z**2 * subpixel_px / (f * B)`` -- with f = 385 px (a D435 at
  640x480), B = 50 mm and 0.08 px: 4.2 mm at 1 m, 9.4 mm at 1.5 m, 16.6 mm at 2 m;
* an optional systematic error: a smooth fixed-pattern disparity offset that stays the same for
  every frame of a take (so averaging or fusion cannot remove it);
* invalid pixels (value 0): beyond ``[min_z, max_z]``, on grazing surfaces (incidence angle above
  ``grazing_deg``), in the stereo occlusion shadow (surfaces the second imager, ``B`` metres along the
  depth camera's +x, cannot see), at depth discontinuities (dropped with probability
  ``edge_dropout``), and at random (``random_dropout``);
* quantisation to ``depth_unit`` metres (uint16, the SDK's z16 format).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage


@dataclass(frozen=True)
class D400Model:
    """Parameters of the sensor model (metres, pixels, degrees).  ``to_dict`` records them with a take."""

    baseline_m: float = 0.05
    subpixel_px: float = 0.08
    depth_unit: float = 0.001
    min_z: float = 0.28
    max_z: float = 4.0
    grazing_deg: float = 80.0
    edge_rel: float = 0.04
    edge_dropout: float = 0.7
    random_dropout: float = 0.002
    noise_corr_px: float = 0.0
    systematic_px: float = 0.0
    systematic_scale_px: float = 40.0
    occlusion: bool = True

    def __post_init__(self):
        for name, value, least, strict in (("baseline_m", self.baseline_m, 0, True),
                                           ("depth_unit", self.depth_unit, 0, True),
                                           ("subpixel_px (--subpixel)", self.subpixel_px, 0, False),
                                           ("systematic_px (--systematic-px)", self.systematic_px, 0, False),
                                           ("noise_corr_px", self.noise_corr_px, 0, False)):
            if not (value > least if strict else value >= least):  # NaN fails too
                raise ValueError(f"sensor model: {name} must be {'>' if strict else '>='} {least}, got {value}")
        if not 0 < self.min_z < self.max_z:
            raise ValueError(f"sensor model needs 0 < min_z < max_z, got {self.min_z}, {self.max_z}")
        if self.max_z / self.depth_unit > 65535:
            raise ValueError(f"max_z {self.max_z} m does not fit z16 at depth_unit {self.depth_unit} m")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def exact(cls, depth_unit: float = 0.001, **kw) -> D400Model:
        """No noise and no invalidation except range: only quantisation (for analytic tests)."""
        return cls(subpixel_px=0.0, depth_unit=depth_unit, grazing_deg=90.0, edge_dropout=0.0, random_dropout=0.0,
                   occlusion=False, **kw)

    def sigma_z(self, z, focal_px: float):
        """Standard deviation (metres) of the depth error at depth ``z`` metres for focal length ``focal_px``."""
        return np.asarray(z, dtype=np.float64) ** 2 * self.subpixel_px / (focal_px * self.baseline_m)

    def fixed_pattern(self, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
        """(H, W) float64 disparity offset in pixels, std ``systematic_px``; zeros when it is off."""
        if self.systematic_px <= 0:
            return np.zeros((height, width))
        field = ndimage.gaussian_filter(rng.standard_normal((height, width)), self.systematic_scale_px, mode="wrap")
        return field * (self.systematic_px / max(field.std(), 1e-12))

    def _disparity_noise(self, shape, rng: np.random.Generator) -> np.ndarray:
        n = rng.standard_normal(shape)
        if self.noise_corr_px > 0:
            n = ndimage.gaussian_filter(n, self.noise_corr_px, mode="reflect")
            n /= max(n.std(), 1e-12)
        return n * self.subpixel_px

    def apply(self, z_true: np.ndarray, focal_px: float, rng: np.random.Generator, cos_incidence=None,
              occluded=None, fixed_pattern=None) -> np.ndarray:
        """Measure a depth map.

        Args:
            z_true: (H, W) exact planar depth in metres; 0 or non-finite where nothing was hit.
            focal_px: horizontal focal length of the depth camera (pixels).
            rng: random generator (the caller seeds it per frame).
            cos_incidence: (H, W) cosine between the surface normal and the viewing ray (1 = head-on).
            occluded: (H, W) bool, True where the second imager cannot see the surface.
            fixed_pattern: (H, W) disparity offset from :meth:`fixed_pattern` (the take's systematic error).

        Returns:
            (H, W) uint16 depth in units of ``depth_unit``; 0 = invalid.
        """
        z = np.asarray(z_true, dtype=np.float64)
        hit = np.isfinite(z) & (z > 0)
        zs = np.where(hit, z, 1.0)
        fb = focal_px * self.baseline_m
        disparity = fb / zs + self._disparity_noise(z.shape, rng)
        if fixed_pattern is not None:
            disparity = disparity + fixed_pattern
        valid = hit & (disparity > 0)
        z_meas = np.where(valid, fb / np.where(valid, disparity, 1.0), 0.0)
        valid &= (z_meas >= self.min_z) & (z_meas <= self.max_z)
        if cos_incidence is not None and self.grazing_deg < 90.0:
            valid &= np.asarray(cos_incidence) >= np.cos(np.radians(self.grazing_deg))
        if occluded is not None and self.occlusion:
            valid &= ~np.asarray(occluded, dtype=bool)
        if self.edge_dropout > 0:
            edges = depth_edges(np.where(hit, z, 0.0), self.edge_rel)
            valid &= ~(edges & (rng.random(z.shape) < self.edge_dropout))
        if self.random_dropout > 0:
            valid &= rng.random(z.shape) >= self.random_dropout
        units = np.rint(z_meas / self.depth_unit)
        return np.where(valid, np.clip(units, 0, 65535), 0).astype(np.uint16)


def depth_edges(z: np.ndarray, rel: float) -> np.ndarray:
    """(H, W) bool: pixels whose depth differs from a 4-neighbour by more than ``rel`` of the nearer
    depth (or which border a pixel with no depth)."""
    z = np.asarray(z, dtype=np.float64)
    edge = np.zeros(z.shape, dtype=bool)
    for axis in (0, 1):
        a = np.take(z, np.arange(z.shape[axis] - 1), axis=axis)
        b = np.take(z, np.arange(1, z.shape[axis]), axis=axis)
        near = np.minimum(a, b)
        jump = (np.abs(a - b) > rel * np.maximum(near, 1e-9)) | ((a > 0) != (b > 0))
        if axis == 0:
            edge[:-1] |= jump
            edge[1:] |= jump
        else:
            edge[:, :-1] |= jump
            edge[:, 1:] |= jump
    return edge
