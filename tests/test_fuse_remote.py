"""humandepth fuse --out s3://...: the fused dataset, meshes and report in object storage (loopback S3)."""

from __future__ import annotations

import json

import numpy as np
from test_data_remote import BUCKET, s3  # noqa: F401  (module-scoped moto server with checked credentials)

from humandepth.cli import main
from humandepth.data import open_dataset
from humandepth.data.store import HumanDepthDataset


def test_fuse_to_an_s3_url(s3, tmp_path, monkeypatch):  # noqa: F811
    from humandepth.capture.simulate import SimulationConfig, simulate_take

    monkeypatch.setenv("HUMANDEPTH_CACHE", str(tmp_path / "cache"))
    cfg = SimulationConfig(frames=6, seed=3, distance=1.5, arc_deg=30.0, depth_size=(320, 240), depth_focal=192.5,
                           color_size=(320, 240), color_focal=210.0, person="mannequin")
    take = simulate_take(tmp_path / "take", cfg)
    url = f"s3://{BUCKET}/fused/take"
    assert main(["fuse", str(take), "--out", url, "--quiet"]) == 0
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="fused/take/")["Contents"]}
    assert {f"fused/take/{n}" for n in ("dataset.json", "fusion_report.json", "fused_mesh.ply",
                                        "person_mesh.ply")} <= keys
    assert not any(k.endswith("_progress.json") for k in keys)
    report = json.loads(s3.get_object(Bucket=BUCKET, Key="fused/take/fusion_report.json")["Body"].read())
    assert report["output"]["dataset"] == url
    ds = open_dataset(url)
    assert ds.card["kind"] == "fused" and ds.card["name"] == "take" and len(ds) == report["output"]["samples"] == 6
    truth = HumanDepthDataset(take / "truth" / "color")
    s, t = ds.get("frame-000003"), truth.get("frame-000003")
    both = s.mask & t.mask
    assert both.sum() > 0.3 * t.mask.sum()  # a short 6-frame take: fusion keeps what the frames support
    assert np.median(np.abs(s.depth[both] - t.depth[both])) < 0.01  # the fused surface, not a placeholder
    # a second run refuses to replace it without --overwrite
    assert main(["fuse", str(take), "--out", url, "--quiet"]) == 2
