"""Distances between surfaces: limb-into-torso penetration of a posed body, garment points inside the body.

Both use Open3D's ``RaycastingScene`` closest-point queries (exact point-triangle distances); a point is
*inside* a surface when it lies behind the triangle closest to it (``(p - c) . n < 0``), which is the local,
robust notion needed here even on open sub-surfaces (the torso without its limbs).
"""

from __future__ import annotations

import numpy as np

from humandepth.render.body import PART, BodyInstance


def _scene(vertices: np.ndarray, faces: np.ndarray):
    import open3d as o3d

    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(o3d.core.Tensor(np.ascontiguousarray(vertices, np.float32)),
                        o3d.core.Tensor(np.ascontiguousarray(faces, np.uint32)))
    return scene


def signed_distance(points: np.ndarray, vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(sd, closest)``: (P,) signed distance of ``points`` to the surface (negative = behind/inside) and the
    (P, 3) closest surface points.  Face orientation must point outwards."""
    import open3d as o3d

    if len(points) == 0:
        return np.zeros(0), np.zeros((0, 3))
    scene = _scene(vertices, faces)
    ans = scene.compute_closest_points(o3d.core.Tensor(np.ascontiguousarray(points, np.float32)))
    closest = ans["points"].numpy().astype(np.float64)
    prim = ans["primitive_ids"].numpy().astype(np.int64)
    tri = vertices[faces[prim]]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-30)
    diff = points - closest
    dist = np.linalg.norm(diff, axis=1)
    sign = np.where(np.einsum("ij,ij->i", diff, n) < 0, -1.0, 1.0)
    return sign * dist, closest


def _faces_of(body: BodyInstance, parts: list[int]) -> np.ndarray:
    return body.faces[np.all(np.isin(body.vertex_parts[body.faces], parts), axis=1)]


def _near_box(points: np.ndarray, box_points: np.ndarray, margin: float) -> np.ndarray:
    lo, hi = box_points.min(axis=0) - margin, box_points.max(axis=0) + margin
    return np.all((points >= lo) & (points <= hi), axis=1)


def limb_penetration(body: BodyInstance, stride: int = 2) -> float:
    """Deepest penetration (metres, >= 0) of forearms, hands, shins and feet into the torso, and of each
    shin / foot into the other leg.  Every ``stride``-th limb vertex inside the target's bounding box is tested."""
    p = body.vertex_parts
    v = body.vertices
    worst = 0.0
    pairs = [([PART[f"{s}_{k}"] for s in ("left", "right") for k in ("lower_arm", "hand", "lower_leg", "foot")],
              [PART["torso"], PART["head"]])]
    for side, other in (("left", "right"), ("right", "left")):
        pairs.append(([PART[f"{side}_lower_leg"], PART[f"{side}_foot"]],
                      [PART[f"{other}_{k}"] for k in ("upper_leg", "lower_leg", "foot")]))
    for query_parts, target_parts in pairs:
        target = _faces_of(body, target_parts)
        q = np.flatnonzero(np.isin(p, query_parts))[::stride]
        q = q[_near_box(v[q], v[np.unique(target)], 0.01)]
        if q.size:
            sd, _ = signed_distance(v[q], v, target)
            worst = max(worst, float(-sd.min()))
    return max(worst, 0.0)


def pose_without_penetration(rng: np.random.Generator, build, key_poses=None, pose_variation: float = 1.0,
                             tolerance_m: float = 0.015, max_tries: int = 25) -> BodyInstance:
    """Draw poses (:func:`humandepth.render.body_poses.sample_pose`) and ``build(pose) -> BodyInstance`` until no
    limb sinks into the torso deeper than ``tolerance_m``; the accepted and rejected draws are recorded in
    ``body.params``.  Raises ``RuntimeError`` after ``max_tries`` draws."""
    from humandepth.render.body_poses import sample_pose

    rejected = []
    for _ in range(max_tries):
        name, pose = sample_pose(rng, key_poses, pose_variation)
        body = build(pose)
        depth = limb_penetration(body)
        if depth <= tolerance_m:
            body.params.update(key_pose=name, penetration_m=round(float(depth), 5), rejected_poses=rejected)
            return body
        rejected.append({"key_pose": name, "penetration_m": round(float(depth), 5)})
    raise RuntimeError(f"no pose without limb-torso penetration in {max_tries} tries ({rejected[-3:]})")
