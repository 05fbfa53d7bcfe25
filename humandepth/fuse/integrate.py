"""TSDF integration with Open3D's tensor ``VoxelBlockGrid`` (CPU, or CUDA when asked and available).

The legacy ``o3d.pipelines.integration.ScalableTSDFVolume`` integrates nothing in open3d 0.20.0
(an empty mesh), so it is not used.  ``VoxelBlockGrid.ray_cast`` reads the surface up to one voxel
off, so ground truth never comes from it: :meth:`TSDFVolume.extract_mesh` gives the marching-cubes
mesh, which :mod:`humandepth.fuse.surface` ray-casts exactly.

Pixel convention: the integration kernel looks a voxel's depth up at ``(int(u), int(v))`` of its
projection, i.e. it treats pixel ``u`` as covering ``[u, u + 1)``.  humandepth puts pixel centres at
integer coordinates, so the kernel gets ``K`` with the principal point moved by +0.5 px, which makes
the lookup the nearest pixel.  Without it a sloped surface comes out biased by half a pixel's depth
gradient (measured: -1.0 mm on a plane at 1.5 m sloped 17 deg, -3.4 mm at 45 deg, at f = 220 px;
+0.03 / +0.36 mm with the shift).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEVICES = ("cpu", "cuda")


def o3d_device(name: str):
    """The Open3D device for ``cpu`` / ``cuda``; ``ValueError`` when CUDA is asked for but unavailable."""
    import open3d as o3d

    if name not in DEVICES:
        raise ValueError(f"--device must be one of {DEVICES}, got {name!r}")
    if name == "cuda":
        built = bool(getattr(o3d, "_build_config", {}).get("BUILD_CUDA_MODULE", False))
        if not built or not o3d.core.cuda.is_available():
            why = ("this open3d build has no CUDA module (open3d-cpu, or a wheel built without CUDA)" if not built
                   else "no CUDA device is visible")
            raise ValueError(f"--device cuda: {why}; rerun with --device cpu, or install the CUDA build of "
                             f"open3d {o3d.__version__} on a machine with an NVIDIA GPU")
        return o3d.core.Device("CUDA:0")
    return o3d.core.Device("CPU:0")


@dataclass
class TSDFParams:
    """Integration parameters (metres).

    voxel: voxel edge; trunc: truncation distance of the signed distance; depth_max: depth beyond
    this is not integrated (keeps the block count down; the subject must be nearer);
    block_resolution: voxels per block edge (8: blocks hug the surface band more tightly than 16, so
    fewer empty voxels are allocated and integrated); block_count: initial hash-map capacity (grows when
    needed); weight_threshold: voxels observed fewer times are not meshed (None: ``min(2, n_frames / 2)``,
    at least 0.5; parts seen by fewer than ``ReliabilityParams.min_views`` frames are meshed but get no
    ground-truth value).
    """

    voxel: float = 0.004
    trunc: float = 0.04
    depth_max: float = 3.0
    block_resolution: int = 8
    block_count: int = 50000
    weight_threshold: float | None = None

    def __post_init__(self):
        if not self.voxel > 0:
            raise ValueError(f"--voxel must be > 0 metres, got {self.voxel}")
        if not self.trunc >= self.voxel:
            raise ValueError(f"--trunc ({self.trunc} m) must be at least one voxel ({self.voxel} m)")
        if not self.depth_max > 0:
            raise ValueError(f"depth_max must be > 0 metres, got {self.depth_max}")

    def to_dict(self) -> dict:
        return {"voxel": self.voxel, "trunc": self.trunc, "depth_max": self.depth_max,
                "block_resolution": self.block_resolution, "weight_threshold": self.weight_threshold}


class TSDFVolume:
    """A ``VoxelBlockGrid`` holding ``tsdf``, ``weight`` and (optionally) ``color``.

    :meth:`integrate` takes depth in metres in a camera with intrinsics ``K`` at ``cam_from_world``;
    :meth:`extract_mesh` returns vertices (N, 3) float64 world metres, triangles (M, 3) int64 and
    vertex colours (N, 3) float64 in [0, 1] (grey when colour is off).
    """

    def __init__(self, params: TSDFParams, device: str = "cpu", color: bool = True):
        import open3d as o3d
        import open3d.core as o3c

        self.o3d, self.o3c = o3d, o3c
        self.params = params
        self.device = o3d_device(device)
        self.color = color
        names = ("tsdf", "weight", "color") if color else ("tsdf", "weight")
        self.vbg = o3d.t.geometry.VoxelBlockGrid(
            attr_names=names, attr_dtypes=(o3c.float32,) * len(names),
            attr_channels=((1), (1), (3)) if color else ((1), (1)),
            voxel_size=params.voxel, block_resolution=params.block_resolution,
            block_count=params.block_count, device=self.device)
        self.frames = 0
        self.empty_frames = 0

    @property
    def trunc_multiplier(self) -> float:
        return self.params.trunc / self.params.voxel

    def integrate(self, depth: np.ndarray, K: np.ndarray, cam_from_world: np.ndarray,
                  rgb: np.ndarray | None = None) -> None:
        """Fuse one depth image.

        Args:
            depth: (H, W) float32 metres, 0 = no value.
            K: (3, 3) intrinsics of the depth image.
            cam_from_world: (4, 4) pose of that camera.
            rgb: (H, W, 3) uint8 colour on the same pixel grid (needed when colour is on).
        """
        o3d, o3c = self.o3d, self.o3c
        if not np.any((depth > 0) & (depth <= self.params.depth_max)):
            self.empty_frames += 1  # Open3D aborts on a frame that touches no block
            return
        d = o3d.t.geometry.Image(o3c.Tensor(np.ascontiguousarray(depth, dtype=np.float32))).to(self.device)
        K = np.asarray(K, dtype=np.float64)
        Kt = o3c.Tensor(K)
        K_lookup = K.copy()
        K_lookup[:2, 2] += 0.5  # nearest-pixel depth lookup (see the module docstring)
        Kl = o3c.Tensor(K_lookup)
        E = o3c.Tensor(np.asarray(cam_from_world, dtype=np.float64))
        p = self.params
        blocks = self.vbg.compute_unique_block_coordinates(d, Kt, E, 1.0, p.depth_max,
                                                           trunc_voxel_multiplier=self.trunc_multiplier)
        if self.color:
            if rgb is None:
                raise ValueError("TSDFVolume(color=True).integrate needs the colour on the depth pixels")
            c = o3d.t.geometry.Image(o3c.Tensor(np.ascontiguousarray(rgb, dtype=np.float32) / 255.0)).to(self.device)
            self.vbg.integrate(blocks, d, c, Kl, Kl, E, 1.0, p.depth_max, trunc_voxel_multiplier=self.trunc_multiplier)
        else:
            self.vbg.integrate(blocks, d, Kl, E, 1.0, p.depth_max, trunc_voxel_multiplier=self.trunc_multiplier)
        self.frames += 1

    def weight_threshold(self) -> float:
        if self.params.weight_threshold is not None:
            return float(self.params.weight_threshold)
        return float(max(0.5, min(2.0, self.frames / 2.0)))

    def extract_mesh(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Marching cubes on the grid.  ``ValueError`` when nothing was observed often enough
        (``extract_triangle_mesh`` raises on an empty result instead of returning an empty mesh)."""
        threshold = self.weight_threshold()
        try:
            mesh = self.vbg.extract_triangle_mesh(weight_threshold=threshold).cpu()
        except RuntimeError as e:
            raise ValueError(
                f"fusion produced no surface from {self.frames} frame(s) ({self.empty_frames} more had no depth "
                f"within depth_max) at weight threshold {threshold:g} "
                f"(is the subject nearer than depth_max {self.params.depth_max:g} m? {e})"
            ) from None
        verts = mesh.vertex.positions.numpy().astype(np.float64)
        tris = mesh.triangle.indices.numpy().astype(np.int64)
        if len(tris) == 0:
            raise ValueError(f"fusion produced no surface from {self.frames} frame(s)")
        if self.color and "colors" in mesh.vertex:
            cols = np.clip(mesh.vertex.colors.numpy().astype(np.float64), 0, 1)
        else:
            cols = np.full_like(verts, 0.7)
        return verts, tris, cols
