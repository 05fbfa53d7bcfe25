"""The fused surface: find the person in the mesh and ray-cast it exactly at any camera.

The person is cut from the rest of the scene in three steps:

1. the floor found in the frames (:func:`humandepth.fuse.fusion.find_floor`: known before the mesh exists)
   and everything within ``floor["margin"]`` above it or below it is removed, and so are other large
   planes (walls: RANSAC planes whose inliers span at least ``plane_extent`` metres in both in-plane
   directions and pass away from the subject, so a torso never qualifies), with ``plane_margin`` metres on
   either side, which separates the feet from the floor;
2. the remaining triangles are split into connected components (shared vertices);
3. the subject is the component that the frames look at: rays through the central part of each
   frame (or through its coarse person hint, when the input has one) vote for the component they hit.

:class:`FusedSurface` then renders depth, normals and the person mask with
``open3d.t.geometry.RaycastingScene`` (the whole mesh is in the scene, so furniture or the floor still
occlude the person).  Rays are built with z = 1 in the camera, so the hit distance is planar depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from humandepth.data.camera import Camera
from humandepth.fuse.frames import camera_rays


@dataclass
class Render:
    """A render of the fused surface from one camera.

    depth: (H, W) float32 planar z (metres) of the first surface hit, 0 = miss.
    mask: (H, W) bool, the first hit is the person, on a part the raw frames support
        (:mod:`humandepth.fuse.reliability`): the pixels that get a ground-truth value (the fusion narrows
        it further: edge band, grazing view).
    person: (H, W) bool, the first hit is the person (supported or not): the person's silhouette.
    normal: (H, W, 3) float32 unit normals in the camera frame facing the camera, 0 = miss.
    """

    depth: np.ndarray
    mask: np.ndarray
    normal: np.ndarray
    person: np.ndarray | None = None

    def person_depth(self) -> np.ndarray:
        """(H, W) float32 depth on the person, 0 elsewhere."""
        return np.where(self.mask, self.depth, 0).astype(np.float32)


@dataclass
class PersonCut:
    """How the person was cut: removed planes, component sizes, votes."""

    planes: list = field(default_factory=list)
    components: int = 0
    person_component: int = -1
    person_triangles: int = 0
    votes: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"planes_removed": self.planes, "components": self.components,
                "person_component": self.person_component, "person_triangles": self.person_triangles,
                "votes": {str(k): int(v) for k, v in self.votes.items()}}


def find_planes(verts: np.ndarray, margin: float, min_extent: float, max_planes: int = 6,
                min_fraction: float = 0.03, seed: int = 0, centre: np.ndarray | None = None,
                min_centre_distance: float = 0.3) -> list[dict]:
    """Large planes among ``verts`` (N, 3): each ``{"normal", "offset", "inliers", "extent_m"}`` with
    ``normal . p + offset = 0``.  Deterministic (seeded RANSAC).

    A plane must span ``min_extent`` metres both ways; with ``centre`` (the subject's centre) it
    must also pass at least ``min_centre_distance`` from it: with noisy depth and a margin of a
    centimetre or two, the front of a standing person can look like a large plane, and it runs
    through the subject, which a floor or a wall never does.  Such a slab is set aside and the
    search goes on.
    """
    import open3d as o3d

    o3d.utility.random.seed(seed)
    remaining = np.arange(len(verts))
    planes = []
    for _ in range(max_planes + 3):
        if len(planes) >= max_planes or len(remaining) < max(100, min_fraction * len(verts)):
            break
        pc = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(verts[remaining]))
        model, inl = pc.segment_plane(distance_threshold=margin, ransac_n=3, num_iterations=400)
        inl = np.asarray(inl, dtype=np.int64)
        if len(inl) < min_fraction * len(verts):
            break  # what is left holds no plane worth the name
        pts = verts[remaining[inl]]
        centred = pts - pts.mean(axis=0)
        _, _, vt = np.linalg.svd(centred[:: max(1, len(centred) // 20000)], full_matrices=False)
        spans = [float(np.percentile(centred @ vt[k], 98) - np.percentile(centred @ vt[k], 2)) for k in (0, 1)]
        n = np.asarray(model[:3], dtype=np.float64)
        scale = np.linalg.norm(n)
        n, offset = n / scale, float(model[3] / scale)
        # a small plane (a slab of the person) or one through the subject is set aside and the search goes on:
        # the person's front is often the largest plane of all and must not hide the floor behind it
        if min(spans) >= min_extent and (centre is None or abs(n @ centre + offset) >= min_centre_distance):
            planes.append({"normal": n.tolist(), "offset": offset, "inliers": int(len(inl)),
                           "extent_m": [round(x, 3) for x in spans]})
        remaining = np.delete(remaining, inl)
    return planes


def triangle_components(n_verts: int, tris: np.ndarray) -> np.ndarray:
    """(M,) int component label of each triangle (triangles sharing a vertex are connected)."""
    if len(tris) == 0:
        return np.zeros(0, dtype=np.int64)
    rows = np.concatenate([tris[:, 0], tris[:, 1]])
    cols = np.concatenate([tris[:, 1], tris[:, 2]])
    g = sparse.coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n_verts, n_verts))
    _, vlabel = csgraph.connected_components(g, directed=False)
    return vlabel[tris[:, 0]].astype(np.int64)


class FusedSurface:
    """The fused mesh (world metres) with a per-triangle person flag, ray-cast exactly.

    Args:
        verts: (N, 3) float64 vertices; tris: (M, 3) int triangles; colors: (N, 3) in [0, 1].
        person: (M,) bool person triangles (None: everything is the person).
    """

    def __init__(self, verts: np.ndarray, tris: np.ndarray, colors: np.ndarray | None = None,
                 person: np.ndarray | None = None):
        self.verts = np.asarray(verts, dtype=np.float64)
        self.tris = np.asarray(tris, dtype=np.int64)
        self.colors = colors
        self.person = np.ones(len(self.tris), bool) if person is None else np.asarray(person, bool)
        self.supported = np.ones(len(self.tris), bool)  # see humandepth.fuse.reliability
        self._scene = None

    # -- the person ---------------------------------------------------------------------------

    def cut_person(self, cameras: list[Camera], hints: list[np.ndarray | None] | None = None,
                   plane_margin: float = 0.015, plane_extent: float = 0.8, centre_fraction: float = 0.3,
                   centre: np.ndarray | None = None, floor: dict | None = None) -> PersonCut:
        """Flag the person's triangles (see the module docstring); return how it was done.

        ``cameras`` are the frames' cameras (with poses) whose central ``centre_fraction`` of the
        image (or whose ``hints`` masks, same size as the camera) vote for the subject; ``centre``
        (world, optional) is the subject's centre, which no removed plane may pass near; ``floor``
        (``{"normal", "offset", "margin"}``, world, normal pointing up) the floor under the subject.
        ``ValueError`` when no component is seen by the frames.
        """
        cut = PersonCut()
        keep_v = np.ones(len(self.verts), bool)
        if floor is not None:
            keep_v &= self.verts @ np.asarray(floor["normal"]) + floor["offset"] > floor["margin"]
        planes = find_planes(self.verts[keep_v], plane_margin, plane_extent, centre=centre)
        for p in planes:
            dist = self.verts @ np.asarray(p["normal"]) + p["offset"]
            keep_v &= np.abs(dist) > plane_margin
        cut.planes = ([{"floor": True, **{k: floor[k] for k in ("normal", "offset", "margin")}}] if floor else []) \
            + planes
        keep_t = keep_v[self.tris].all(axis=1)
        labels = np.full(len(self.tris), -1, dtype=np.int64)
        labels[keep_t] = triangle_components(len(self.verts), self.tris[keep_t])
        cut.components = int(len(np.unique(labels[keep_t]))) if keep_t.any() else 0
        # vote: cast the vote rays at the plane-free mesh labelled by component
        votes: dict[int, int] = {}
        if keep_t.any():
            scene, o3c = self._make_scene(self.tris[keep_t])
            kept_labels = labels[keep_t]
            for i, cam in enumerate(cameras):
                hint = hints[i] if hints is not None else None
                if hint is not None and np.any(hint):
                    sel = np.asarray(hint, bool)
                else:
                    sel = np.zeros((cam.height, cam.width), bool)
                    h0, w0 = int(cam.height * (1 - centre_fraction) / 2), int(cam.width * (1 - centre_fraction) / 2)
                    sel[h0:cam.height - h0, w0:cam.width - w0] = True
                prim = self._cast(scene, o3c, cam, sel)[1]
                hit = prim[prim >= 0]
                for lab, cnt in zip(*np.unique(kept_labels[hit], return_counts=True), strict=True):
                    votes[int(lab)] = votes.get(int(lab), 0) + int(cnt)
        if not votes:
            raise ValueError("the fused surface has no object in front of the cameras (only floor/walls, or "
                             "nothing within depth_max): no subject to cut")
        best = max(votes, key=votes.get)
        self.person = labels == best
        self._scene = None
        cut.person_component, cut.person_triangles, cut.votes = best, int(self.person.sum()), votes
        return cut

    # -- ray casting ----------------------------------------------------------------------------

    def _make_scene(self, tris: np.ndarray):
        import open3d as o3d
        import open3d.core as o3c

        scene = o3d.t.geometry.RaycastingScene()
        scene.add_triangles(o3c.Tensor(self.verts.astype(np.float32)), o3c.Tensor(tris.astype(np.uint32)))
        return scene, o3c

    @classmethod
    def _cast(cls, scene, o3c, cam: Camera, select: np.ndarray | None = None):
        """Cast camera rays (z = 1) through the selected pixels; returns t (planar depth, inf = miss),
        primitive ids (-1 = miss) and world primitive normals (float32), flat over the selected pixels."""
        rays = camera_rays(cam)
        if select is not None:
            rays = rays[np.asarray(select, bool).reshape(-1)]
        wfc = cam.world_from_cam
        buf = np.empty((len(rays), 6), dtype=np.float32)
        buf[:, :3] = wfc[:3, 3]
        np.matmul(rays, wfc[:3, :3].T.astype(np.float32), out=buf[:, 3:])
        ans = scene.cast_rays(o3c.Tensor(buf))
        t = ans["t_hit"].numpy()
        prim = ans["primitive_ids"].numpy().astype(np.int64)
        prim[~np.isfinite(t)] = -1
        return t, prim, ans["primitive_normals"].numpy()

    def render(self, cam: Camera) -> Render:
        """Depth, person mask and normals of the fused surface seen from ``cam`` (exact ray casting)."""
        if self._scene is None:
            self._scene = self._make_scene(self.tris)
        scene, o3c = self._scene
        t, prim, n_world = self._cast(scene, o3c, cam)
        hit = prim >= 0
        H, W = cam.height, cam.width
        depth = np.zeros(len(t), np.float32)
        depth[hit] = t[hit]
        person = np.zeros(len(t), bool)
        person[hit] = self.person[prim[hit]]
        mask = np.zeros(len(t), bool)
        mask[hit] = self.person[prim[hit]] & self.supported[prim[hit]]
        normal = np.zeros((len(t), 3), np.float32)
        n_cam = n_world[hit] @ cam.cam_from_world[:3, :3].T.astype(np.float32)
        facing = np.sum(n_cam * camera_rays(cam)[hit], axis=1)
        n_cam[facing > 0] *= -1
        n_cam /= np.maximum(np.linalg.norm(n_cam, axis=1, keepdims=True), 1e-12)
        normal[hit] = n_cam
        return Render(depth.reshape(H, W), mask.reshape(H, W), normal.reshape(H, W, 3), person.reshape(H, W))

    def set_supported_vertices(self, person_vertex_ids: np.ndarray, supported: np.ndarray) -> None:
        """Mark person triangles touching an unsupported vertex (``person_vertex_ids[~supported]``)."""
        bad = np.zeros(len(self.verts), bool)
        bad[np.asarray(person_vertex_ids)[~np.asarray(supported, bool)]] = True
        self.supported = ~bad[self.tris].any(axis=1)

    # -- output ---------------------------------------------------------------------------------

    def person_mesh(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Vertices, triangles and colours of the person alone (re-indexed)."""
        tris = self.tris[self.person]
        used = np.unique(tris)
        remap = np.full(len(self.verts), -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        cols = None if self.colors is None else self.colors[used]
        return self.verts[used], remap[tris], cols

    def stats(self) -> dict:
        v, t, _ = self.person_mesh()
        out = {"vertices": int(len(self.verts)), "triangles": int(len(self.tris)),
               "person_vertices": int(len(v)), "person_triangles": int(len(t)),
               "person_triangles_supported": int(np.sum(self.person & self.supported))}
        if len(t):
            a = v[t[:, 1]] - v[t[:, 0]]
            b = v[t[:, 2]] - v[t[:, 0]]
            out["person_area_m2"] = round(float(0.5 * np.linalg.norm(np.cross(a, b), axis=1).sum()), 4)
            out["person_bounds_m"] = [np.round(v.min(axis=0), 4).tolist(), np.round(v.max(axis=0), 4).tolist()]
        return out


def view_angles_deg(render: Render, cam: Camera) -> np.ndarray:
    """(H, W) float32 angle (degrees) between each pixel's viewing ray and the surface normal it hits
    (0 = seen head-on, 90 = grazing); 90 where the ray hits nothing."""
    rays = camera_rays(cam).reshape(cam.height, cam.width, 3)
    cos = -np.sum(render.normal * rays, axis=-1) / np.linalg.norm(rays, axis=-1)
    return np.degrees(np.arccos(np.clip(cos, 0.0, 1.0))).astype(np.float32)


def depth_steps(depth: np.ndarray, step: float) -> np.ndarray:
    """(H, W) bool: pixels next to (4-neighbour) a depth jump larger than ``step`` metres; no depth
    counts as far away, so the silhouette is a step too."""
    z = np.where(depth > 0, depth, np.float32(1e4))
    out = np.zeros(z.shape, bool)
    dv = np.abs(np.diff(z, axis=0)) > step
    dh = np.abs(np.diff(z, axis=1)) > step
    out[:-1] |= dv
    out[1:] |= dv
    out[:, :-1] |= dh
    out[:, 1:] |= dh
    return out


def write_ply(path, verts: np.ndarray, tris: np.ndarray, colors: np.ndarray | None = None) -> None:
    """Write a triangle mesh (metres, world frame) as binary PLY with Open3D."""
    import open3d as o3d

    mesh = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(np.asarray(verts, np.float64)),
                                     o3d.utility.Vector3iVector(np.asarray(tris, np.int32)))
    if colors is not None:
        mesh.vertex_colors = o3d.utility.Vector3dVector(np.asarray(colors, np.float64))
    mesh.compute_vertex_normals()
    if not o3d.io.write_triangle_mesh(str(path), mesh, write_ascii=False):
        raise OSError(f"could not write the mesh to {path}")
