"""Camera poses for fusion: known, or estimated by RGB-D odometry and a pose graph.

Estimated poses (``--poses odometry``), all from the whole scene (floor, walls, person):

1. frame-to-frame: Open3D's multi-scale RGB-D odometry (``Hybrid``: photometric + point-to-plane
   terms) from each frame to the previous frame that tracked; a frame that does not track (too few
   correspondences) is rejected and the next one is tried against the last good frame;
2. keyframes every ``keyframe_every`` tracked frames; loop closures: odometry from each keyframe to
   up to ``max_loop_partners`` earlier keyframes (all of them in a short take) that are not already
   neighbours in the chain, initialised by the chained poses, kept
   when it converges with enough overlap and stays close to the chain (a loop closure corrects
   drift, it never teleports);
3. a pose graph (odometry edges certain, loop closures uncertain) optimised with Open3D's
   Levenberg-Marquardt global optimisation, which prunes loop closures that disagree.

Poses are ``cam_from_world`` of the depth camera (OpenCV axes); the world is the first tracked
frame's depth camera.  Open3D's pose graph stores ``world_from_cam`` per node and, per edge, the
motion ``p_target = T p_source``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from humandepth.fuse.frames import FrameSequence, color_on_depth


@dataclass
class OdometryParams:
    """Odometry / pose-graph parameters (metres, degrees)."""

    depth_max: float = 3.5
    iterations: tuple = (20, 10, 5)
    min_fitness: float = 0.1
    keyframe_every: int = 3
    max_loop_partners: int = 8
    loop_min_fitness: float = 0.12
    loop_max_correction_m: float = 0.10
    loop_max_correction_deg: float = 10.0
    info_distance: float = 0.03
    edge_prune_threshold: float = 0.25
    preference_loop_closure: float = 0.1

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass
class PoseResult:
    """Poses per frame id (``cam_from_world`` of the depth camera), frames that could not be posed
    (id -> reason), and statistics for the report."""

    poses: dict
    rejected: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)


def known_poses(seq: FrameSequence) -> PoseResult:
    """The sequence's own poses; ``ValueError`` naming a frame without one."""
    missing = [f.id for f in seq.frames if f.pose is None]
    if missing:
        raise ValueError(
            f"--poses known: {len(missing)} frame(s) of {seq.source.get('path', 'the input')} have no known pose "
            f"(first: {missing[0]!r}); use --poses odometry"
        )
    return PoseResult({f.id: np.asarray(f.pose, dtype=np.float64) for f in seq.frames},
                      stats={"method": "known", "source": seq.source.get("poses_from", "input")})


def _rotation_deg(R: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip((np.trace(R) - 1) / 2, -1, 1))))


class _Odometry:
    def __init__(self, seq: FrameSequence, params: OdometryParams):
        import open3d as o3d
        import open3d.core as o3c
        import open3d.t.pipelines.odometry as odo

        self.o3d, self.o3c, self.odo = o3d, o3c, odo
        self.seq, self.p = seq, params
        self.K = o3c.Tensor(seq.depth_camera.K)
        self.criteria = [odo.OdometryConvergenceCriteria(int(n)) for n in params.iterations]
        self._cache: dict = {}

    def rgbd(self, index: int):
        if index not in self._cache:
            if len(self._cache) > 64:
                self._cache.pop(next(iter(self._cache)))
            f = self.seq.frames[index]
            col, inside = color_on_depth(self.seq, f, return_inside=True)
            col = col.astype(np.float32) / 255.0
            depth = np.where(inside, f.depth, 0).astype(np.float32)  # no colour there: no photometric term
            img = self.o3d.t.geometry.Image(self.o3c.Tensor(np.ascontiguousarray(col)))
            dep = self.o3d.t.geometry.Image(self.o3c.Tensor(np.ascontiguousarray(depth)))
            self._cache[index] = self.o3d.t.geometry.RGBDImage(img, dep)
        return self._cache[index]

    def register(self, source: int, target: int, init: np.ndarray):
        """Motion ``T`` with ``p_target = T p_source``, its fitness, and its 6x6 information matrix."""
        src, tgt = self.rgbd(source), self.rgbd(target)
        try:
            res = self.odo.rgbd_odometry_multi_scale(
                src, tgt, self.K, self.o3c.Tensor(init), 1.0, self.p.depth_max, self.criteria, self.odo.Method.Hybrid)
        except RuntimeError:
            return None, 0.0, None
        T = res.transformation.numpy().astype(np.float64)
        if not np.all(np.isfinite(T)):
            return None, 0.0, None
        info = self.odo.compute_odometry_information_matrix(
            src.depth, tgt.depth, self.K, self.o3c.Tensor(T), self.p.info_distance, 1.0, self.p.depth_max)
        return T, float(res.fitness), info.numpy().astype(np.float64)


def odometry_poses(seq: FrameSequence, params: OdometryParams | None = None, skip: set | None = None,
                   progress=None) -> PoseResult:
    """Estimate every frame's pose from the frames alone (see the module docstring).

    ``skip``: frame ids not to use (e.g. frames without depth).  Frames that do not track are
    returned in ``rejected`` with reason ``tracking_lost``.
    """
    import open3d as o3d

    reg = o3d.pipelines.registration
    p = params or OdometryParams()
    od = _Odometry(seq, p)
    skip = skip or set()
    order = [i for i, f in enumerate(seq.frames) if f.id not in skip]
    if not order:
        raise ValueError("no frame left to estimate poses from")
    rejected: dict = {}
    world_from_cam = {order[0]: np.eye(4)}
    nodes = [order[0]]
    edges = []  # (node_s, node_t, T, info, uncertain)
    fitness = []
    last = order[0]
    velocity = np.eye(4)
    for n_done, i in enumerate(order[1:], start=1):
        T, fit, info = od.register(last, i, velocity)
        if T is None or fit < p.min_fitness:
            T2, fit2, info2 = od.register(last, i, np.eye(4))  # retry without the motion prior
            if T2 is not None and fit2 > fit:
                T, fit, info = T2, fit2, info2
        if T is None or fit < p.min_fitness:
            rejected[seq.frames[i].id] = {"reason": "tracking_lost", "fitness": round(fit, 4),
                                          "against": seq.frames[last].id}
            continue
        fitness.append(fit)
        world_from_cam[i] = world_from_cam[last] @ np.linalg.inv(T)
        edges.append((nodes.index(last), len(nodes), T, info, False))
        nodes.append(i)
        velocity = T
        last = i
        if progress:
            progress(n_done, len(order) - 1)
    if len(nodes) < 2:
        raise ValueError(f"odometry could not track any frame of {seq.source.get('path', 'the input')} against "
                         f"frame {seq.frames[order[0]].id!r} (is there texture and depth within "
                         f"{p.depth_max:g} m?)")
    # keyframes and loop closures
    keyframes = list(range(0, len(nodes), max(1, p.keyframe_every)))
    tried, accepted = 0, 0
    for b_pos, b in enumerate(keyframes):
        earlier = [a for a in keyframes[:b_pos] if b - a >= 2]  # neighbours already have an odometry edge
        if len(earlier) > p.max_loop_partners:  # long takes: a few partners spread over the past
            earlier = [earlier[k] for k in np.unique(np.linspace(0, len(earlier) - 1, p.max_loop_partners).round()
                                                     .astype(int))]
        for a in earlier:
            na, nb = nodes[a], nodes[b]
            init = np.linalg.inv(world_from_cam[nb]) @ world_from_cam[na]  # p_b = init p_a
            tried += 1
            T, fit, info = od.register(na, nb, init)
            if T is None or fit < p.loop_min_fitness:
                continue
            corr = T @ np.linalg.inv(init)
            if np.linalg.norm(corr[:3, 3]) > p.loop_max_correction_m or \
                    _rotation_deg(corr[:3, :3]) > p.loop_max_correction_deg:
                continue
            edges.append((a, b, T, info, True))
            accepted += 1
    graph = reg.PoseGraph()
    for i in nodes:
        graph.nodes.append(reg.PoseGraphNode(world_from_cam[i]))
    for s, t, T, info, uncertain in edges:
        graph.edges.append(reg.PoseGraphEdge(s, t, T, info, uncertain=uncertain))
    before = [np.array(n.pose) for n in graph.nodes]
    if accepted:
        option = reg.GlobalOptimizationOption(max_correspondence_distance=p.info_distance,
                                              edge_prune_threshold=p.edge_prune_threshold,
                                              preference_loop_closure=p.preference_loop_closure, reference_node=0)
        with o3d.utility.VerbosityContextManager(o3d.utility.VerbosityLevel.Error):
            reg.global_optimization(graph, reg.GlobalOptimizationLevenbergMarquardt(),
                                    reg.GlobalOptimizationConvergenceCriteria(), option)
    after = [np.array(n.pose) for n in graph.nodes]
    shifts = [np.linalg.norm(a[:3, 3] - b[:3, 3]) for a, b in zip(after, before, strict=True)]
    turns = [_rotation_deg(a[:3, :3] @ b[:3, :3].T) for a, b in zip(after, before, strict=True)]
    poses = {seq.frames[i].id: np.linalg.inv(after[k]) for k, i in enumerate(nodes)}
    stats = {
        "method": "odometry", "params": p.to_dict(), "nodes": len(nodes), "keyframes": len(keyframes),
        "odometry_edges": len(nodes) - 1, "loop_closures_tried": tried, "loop_closures_accepted": accepted,
        "edges_after_optimisation": len(graph.edges),
        "loop_closures_pruned": accepted - (len(graph.edges) - (len(nodes) - 1)),
        "odometry_fitness_mean": round(float(np.mean(fitness)), 4) if fitness else None,
        "odometry_fitness_min": round(float(np.min(fitness)), 4) if fitness else None,
        "optimisation_max_shift_m": round(float(max(shifts)), 5),
        "optimisation_max_turn_deg": round(float(max(turns)), 4),
        "trajectory_length_m": round(float(sum(
            np.linalg.norm(after[k][:3, 3] - after[k - 1][:3, 3]) for k in range(1, len(after)))), 4),
    }
    return PoseResult(poses, rejected, stats)


def pose_errors(estimated: dict, truth: dict) -> dict:
    """Relative pose error of estimated vs true ``cam_from_world`` poses (both dicts id -> 4x4), after
    aligning the first common frame: mean / max translation (mm) and rotation (deg)."""
    ids = [i for i in estimated if i in truth]
    if not ids:
        return {}
    align = np.linalg.inv(truth[ids[0]]) @ estimated[ids[0]]  # world_est -> world_true
    dt, dr = [], []
    for i in ids:
        est_in_true = estimated[i] @ np.linalg.inv(align)
        delta = est_in_true @ np.linalg.inv(truth[i])
        dt.append(np.linalg.norm(np.linalg.inv(est_in_true)[:3, 3] - np.linalg.inv(truth[i])[:3, 3]) * 1000)
        dr.append(_rotation_deg(delta[:3, :3]))
    return {"frames": len(ids), "translation_mm_mean": round(float(np.mean(dt)), 3),
            "translation_mm_max": round(float(np.max(dt)), 3), "rotation_deg_mean": round(float(np.mean(dr)), 4),
            "rotation_deg_max": round(float(np.max(dr)), 4)}
