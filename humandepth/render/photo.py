"""A photograph of a person in a place: one exact pass for person and place, then shading and a camera.

:func:`render_photo` rasterises the person's meshes and the place's meshes together with
:func:`humandepth.render.raster.render_mesh` (exact depth, normals and visibility for every pixel), keeps the
person's pixels for the ground truth, and shades every pixel in linear light
(:mod:`humandepth.render.lighting`: environment SH, key light with a splatted shadow map, screen-space and
per-vertex ambient occlusion), adds the sky or the user's photograph where nothing was hit, and runs the
camera (:mod:`humandepth.render.camera_fx`: optics, exposure and white balance, sensor noise, tone curve, JPEG).
"""

from __future__ import annotations

import numpy as np

from humandepth.data.camera import Camera
from humandepth.render import camera_fx as cfx
from humandepth.render.lighting import ShadowMap, expose, screen_space_ao, shade, tone_map
from humandepth.render.raster import mesh_albedo, visible_surface
from humandepth.render.surface import Surface
from humandepth.render.texture import srgb_to_linear


def _groups(mesh_of: np.ndarray, count: int):
    """Pixel indices per mesh (one sort instead of a scan per mesh)."""
    order = np.argsort(mesh_of, kind="stable")
    bounds = np.searchsorted(mesh_of[order], np.arange(count + 1))
    return [order[bounds[i]:bounds[i + 1]] for i in range(count)]


def _upsample(half: np.ndarray, h: int, w: int) -> np.ndarray:
    """Bilinear 2x upsampling of ``half`` (ceil(h/2), ceil(w/2), ...) sampled at the even pixels, to (h, w, ...)."""
    hh, ww = half.shape[:2]
    rows = np.empty((2 * hh,) + half.shape[1:], half.dtype)
    rows[0::2] = half
    rows[1:-1:2] = 0.5 * (half[:-1] + half[1:])
    rows[-1] = half[-1]
    out = np.empty((2 * hh, 2 * ww) + half.shape[2:], half.dtype)
    out[:, 0::2] = rows
    out[:, 1:-1:2] = 0.5 * (rows[:, :-1] + rows[:, 1:])
    out[:, -1] = rows[:, -1]
    return out[:h, :w]


def _nearest_valid(valid: np.ndarray):
    """Index arrays ``(iy, ix)`` giving every cell of a 2D grid its nearest ``valid`` cell (itself if valid)."""
    from scipy.ndimage import distance_transform_edt

    if valid.all() or not valid.any():
        return np.indices(valid.shape)
    return distance_transform_edt(~valid, return_indices=True, return_distances=False)


def render_photo(person_meshes: list, person_surfaces: list, place, camera: Camera, lighting: dict, fx: dict,
                 rng: np.random.Generator, person_cavity: list | None = None) -> dict:
    """Render the person in the place.

    The person's pixels are computed exactly at full resolution; the place's at every other pixel in both
    directions (its exact samples there, shaded, then interpolated), which is where the photograph spends
    less detail anyway (the focus is on the person) and saves three quarters of the background's work.

    Args:
        person_meshes / person_surfaces: world-frame meshes and their :class:`Surface` (same length).
        place: a :class:`humandepth.render.places.Place`.
        lighting: :func:`humandepth.render.lighting.sample_lighting`'s dict.  fx: camera effects
            (:func:`humandepth.render.camera_fx.sample_camera_fx`).
        person_cavity: optional per person mesh (V,) ambient visibility of each vertex (creases and folds).

    Returns:
        dict with ``rgb`` (H, W, 3) uint8, ``person`` (exact passes of the person where it is visible:
        ``depth`` float32, ``normal`` float32, ``mask``, ``mesh_index`` int16, ``face_index`` int32, as
        :func:`render_mesh`) and ``stats`` (JSON: exposure scale, shadowed fraction of the person, focus).
    """
    n_person = len(person_meshes)
    place_mesh, face_object = place.merged()
    meshes = list(person_meshes) + ([place_mesh] if place_mesh is not None else [])
    h, w = camera.height, camera.width
    hh, ww = (h + 1) // 2, (w + 1) // 2

    def sample(pixel, mesh):
        return (mesh < n_person) | ((pixel % w % 2 == 0) & (pixel // w % 2 == 0))

    s = visible_surface(meshes, camera, sample=sample, smooth=[True] * n_person + [False] * (len(meshes) - n_person))
    pix, mesh_of, face, bary = s["pixel"], s["mesh"], s["face"], s["bary"]
    R, t = camera.cam_from_world[:3, :3], camera.cam_from_world[:3, 3]
    world = (s["point"] - t) @ R
    normal_w = s["normal"] @ R
    view = -s["point"] / np.linalg.norm(s["point"], axis=1, keepdims=True) @ R
    on_person = mesh_of < n_person

    # one group of pixels per surface: each person mesh, each object of the place
    group = mesh_of.copy()
    on_place = ~on_person
    group[on_place] = n_person + face_object[face[on_place]]
    surfaces = list(person_surfaces) + list(place.surfaces)
    count = len(pix)
    footprint = s["point"][:, 2] / camera.fx  # metres per pixel at each hit
    footprint[on_place] *= 2.0  # the place is sampled every other pixel
    albedo = np.empty((count, 3))
    spec = np.zeros(count)
    shin = np.ones(count)
    emission = np.zeros(count)
    ao_vertex = np.ones(count)
    tangent = None
    for i, idx in enumerate(_groups(group, len(surfaces))):
        if idx.size == 0:
            continue
        surf: Surface = surfaces[i]
        m = meshes[min(i, n_person)]
        if surf.albedo is not None:
            albedo[idx] = surf.albedo(face[idx], bary[idx], world[idx], footprint[idx])
        else:
            albedo[idx] = mesh_albedo(m, face[idx], bary[idx])
        spec[idx], shin[idx], emission[idx] = surf.specular, surf.shininess, surf.emission
        if surf.tangent is not None:
            tangent = np.zeros((count, 3)) if tangent is None else tangent
            tangent[idx] = surf.tangent(face[idx], bary[idx], world[idx])
        if person_cavity is not None and i < n_person and person_cavity[i] is not None:
            vis = person_cavity[i][np.asarray(m.faces)[face[idx]]]
            ao_vertex[idx] = np.einsum("pk,pk->p", bary[idx], vis)

    # depth and normals of every even pixel (ambient occlusion works at half resolution)
    u, v = pix % w, pix // w
    even = (u % 2 == 0) & (v % 2 == 0)
    depth_half = np.zeros((hh, ww), np.float32)
    normal_half = np.zeros((hh, ww, 3), np.float32)
    depth_half[v[even] // 2, u[even] // 2] = s["point"][even, 2]
    normal_half[v[even] // 2, u[even] // 2] = s["normal"][even]
    ao_full = screen_space_ao(depth_half, normal_half, camera.K, (h, w)).reshape(-1)

    # key-light shadows cast by the person (splatted vertices: dense meshes only; furniture gets occlusion only)
    casters = [np.asarray(m.vertices)[::2] for m, sf in zip(person_meshes, person_surfaces, strict=True)
               if sf.cast_shadow]  # every other vertex: the map's texels are coarser than the vertex spacing
    key = lighting["key"]
    shadow = np.ones(count)
    if casters:
        smap = ShadowMap(np.concatenate(casters), key["direction"])
        shadow = smap.visibility(world, normal_w, key["softness_m"])
    lin = srgb_to_linear(albedo)
    radiance = shade(lin, normal_w, view, lighting, ao=ao_full[pix] * ao_vertex, shadow=shadow, specular=spec,
                     shininess=shin, tangent=tangent)
    radiance += lin * emission[:, None]

    covered = s["mesh_index"].reshape(-1)
    person = covered >= 0
    person &= covered < n_person
    place_px = covered >= n_person
    image = np.zeros((h * w, 3))
    image[pix[on_person]] = radiance[on_person]
    if place_px.any():  # the place: shaded at even pixels, interpolated in between
        half = np.zeros((hh, ww, 3))
        valid = np.zeros((hh, ww), bool)
        sel = on_place & even
        half[v[sel] // 2, u[sel] // 2] = radiance[sel]
        valid[v[sel] // 2, u[sel] // 2] = True
        iy, ix = _nearest_valid(valid)
        image[place_px] = _upsample(half[iy, ix], h, w).reshape(-1, 3)[place_px]
        depth_all = np.where(place_px.reshape(h, w), _upsample(depth_half[iy, ix], h, w), 0.0)
    else:
        depth_all = np.zeros((h, w))
    depth_all.reshape(-1)[pix[on_person]] = s["point"][on_person, 2]
    empty = covered < 0
    photo_bg = getattr(place, "image", None)
    if place.sky is not None and empty.any():
        e = np.flatnonzero(empty)
        rays = np.stack([(e % w - camera.cx) / camera.fx, (e // w - camera.cy) / camera.fy, np.ones(len(e))], 1)
        dirs = rays @ R
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        image[empty] = place.sky(dirs)
    weight = np.where(person, 2.0, 1.0)
    if photo_bg is not None:
        weight = person.astype(np.float64)
    image, scale = expose(image.reshape(h, w, 3), weight.reshape(h, w), lighting)
    if photo_bg is not None:  # the photograph keeps its own exposure
        bg = srgb_to_linear(photo_bg.reshape(-1, 3) / 255.0)
        flat = image.reshape(-1, 3)
        flat[~person] = bg[~person]
        image = flat.reshape(h, w, 3)
    mask = person.reshape(h, w)
    person_depth = depth_all[mask]
    focus = float(np.median(person_depth)) if person_depth.size else 3.0
    image = cfx.apply_optics(image, depth_all, focus, fx)
    image = cfx.add_sensor_noise(image, fx, rng)
    srgb = cfx.sharpen(tone_map(image, lighting["tone_shoulder"], lighting["tone_contrast"]), fx)
    rgb = np.clip(np.round(srgb * 255.0), 0, 255).astype(np.uint8)
    rgb = cfx.jpeg(rgb, fx["jpeg_quality"])

    # the ground truth: the person's exact samples (every person pixel was sampled)
    pp = pix[on_person]
    depth = np.zeros(h * w, np.float32)
    depth[pp] = s["point"][on_person, 2]
    normal = np.zeros((h * w, 3), np.float32)
    normal[pp] = s["normal"][on_person]
    mesh_index = np.full(h * w, -1, np.int16)
    mesh_index[pp] = mesh_of[on_person]
    face_index = np.full(h * w, -1, np.int32)
    face_index[pp] = face[on_person]
    person_out = {"depth": depth.reshape(h, w), "normal": normal.reshape(h, w, 3),
                  "mask": mesh_index.reshape(h, w) >= 0, "mesh_index": mesh_index.reshape(h, w),
                  "face_index": face_index.reshape(h, w)}
    stats = {"exposure_scale": round(float(scale), 5),
             "person_shadowed_fraction": round(float((shadow[on_person] < 0.5).mean()) if on_person.any() else 0.0, 4),
             "focus_m": round(focus, 4)}
    return {"rgb": rgb, "person": person_out, "stats": stats}
