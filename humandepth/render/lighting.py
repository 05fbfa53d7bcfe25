"""Light for photographic renders: an environment (spherical harmonics), a key light with soft shadows,
ambient occlusion, exposure and white balance.  Everything works in linear RGB in the world frame.

- **Environment**: the light arriving from every direction (sky or ceiling above, walls around, the floor's
  bounce below, windows and lamps as bright lobes) is projected on the 9 real spherical harmonics of order 2;
  the irradiance of a surface with normal ``n`` is then ``sum_lm A_l L_lm Y_lm(n)`` (Ramamoorthi & Hanrahan
  2001), i.e. several soft sources at the cost of one small polynomial per pixel.
- **Key light**: one directional light (the sun, a lamp, a window) with a shadow map made by *splatting* the
  casters' vertices into a grid seen from the light (orthographic, nearest depth per texel, holes closed by a
  3x3 minimum), read with percentage-closer filtering over a disc whose radius is the light's softness.
  It gives self-shadowing (arms on the torso, a jacket on the shirt) and the shadow on the floor.
- **Ambient occlusion**: screen-space (from the exact depth and normals of every pixel, person and place
  alike) at half resolution: creases, armpits, between the legs, the dark contact where shoes meet the floor.
- **Exposure and white balance**: the linear image is scaled so its (person-weighted) mean luminance lands on a
  sampled grey level, multiplied by per-channel white-balance gains (the camera's auto white balance, which
  removes most of the light's colour and gets it a little wrong), then tone-mapped by a soft shoulder,
  encoded to sRGB and given a sampled S-curve.

All parameters are sampled from the sample's random stream and returned as JSON dicts (``meta["lighting"]``).
"""

from __future__ import annotations

import numpy as np

SH_BAND = np.array([np.pi] + [2 * np.pi / 3] * 3 + [np.pi / 4] * 5)


def sh_basis(d: np.ndarray) -> np.ndarray:
    """(N, 9) real spherical harmonics of order <= 2 at unit directions ``d`` (N, 3)."""
    x, y, z = d[:, 0], d[:, 1], d[:, 2]
    return np.stack([
        np.full_like(x, 0.282095), 0.488603 * y, 0.488603 * z, 0.488603 * x,
        1.092548 * x * y, 1.092548 * y * z, 0.315392 * (3 * z * z - 1), 1.092548 * x * z,
        0.546274 * (x * x - y * y)], axis=1)


def fibonacci_sphere(n: int) -> np.ndarray:
    """(n, 3) nearly uniform unit directions."""
    i = np.arange(n) + 0.5
    phi = np.arccos(1 - 2 * i / n)
    theta = np.pi * (1 + 5**0.5) * i
    return np.stack([np.cos(theta) * np.sin(phi), np.cos(phi), np.sin(theta) * np.sin(phi)], axis=1)


_DIRS = fibonacci_sphere(512)
_BASIS = sh_basis(_DIRS)


def environment_radiance(env: dict, d: np.ndarray) -> np.ndarray:
    """(N, 3) linear radiance of the environment ``env`` (see :func:`sample_lighting`) toward directions ``d``."""
    up = d[:, 1:2]
    sky = np.asarray(env["sky"])
    horizon = np.asarray(env["horizon"])
    ground = np.asarray(env["ground"])
    t = np.clip(up, 0, 1) ** 0.6
    upper = horizon * (1 - t) + sky * t
    lower = horizon * (1 - np.clip(-up * 4, 0, 1)) + ground * np.clip(-up * 4, 0, 1)
    rad = np.where(up >= 0, upper, lower)
    for lobe in env.get("lobes", []):
        c = np.asarray(lobe["direction"])
        w = np.exp((d @ c - 1.0) / lobe["width"])
        rad = rad + w[:, None] * np.asarray(lobe["color"]) * lobe["intensity"]
    return rad


def sh_coefficients(env: dict) -> np.ndarray:
    """(9, 3) SH coefficients of the environment's radiance (numerical projection on 512 directions)."""
    rad = environment_radiance(env, _DIRS)
    return (_BASIS.T @ rad) * (4 * np.pi / len(_DIRS))


def sh_irradiance(coeffs: np.ndarray, n: np.ndarray) -> np.ndarray:
    """(N, 3) irradiance / pi (so a white Lambertian surface returns its radiance) at unit normals ``n``."""
    return np.clip(sh_basis(n) @ (coeffs * SH_BAND[:, None]), 0.0, None) / np.pi


def _kelvin_rgb(kelvin: float) -> np.ndarray:
    """Approximate linear RGB of a black body at ``kelvin`` (normalised to max 1)."""
    t = kelvin / 100.0
    r = 255.0 if t <= 66 else 329.7 * (t - 60) ** -0.1332
    g = 99.47 * np.log(t) - 161.1 if t <= 66 else 288.1 * (t - 60) ** -0.0755
    b = 255.0 if t >= 66 else (0.0 if t <= 19 else 138.5 * np.log(t - 10) - 305.0)
    c = np.clip(np.array([r, g, b]) / 255.0, 0.05, 1.0) ** 2.2
    return c / c.max()


def _unit(v) -> np.ndarray:
    v = np.asarray(v, np.float64)
    return v / np.linalg.norm(v)


def _r(x, k: int = 4):
    return [round(float(v), k) for v in np.ravel(x)] if np.ndim(x) else round(float(x), k)


def sample_lighting(rng: np.random.Generator, place: dict) -> dict:
    """Sample the environment, key light, exposure and white balance for a place (``Place.light_hints``).

    ``place`` gives ``kind`` (indoor / outdoor / studio / photo), the mean linear albedos of ``floor`` and ``walls``,
    the world directions of ``windows`` and ``lamps`` and (photos) the image's mean colour.
    """
    kind = place["kind"]
    floor = np.asarray(place.get("floor", [0.3, 0.3, 0.3]))
    walls = np.asarray(place.get("walls", [0.6, 0.6, 0.6]))
    lobes = []
    if kind == "outdoor":
        overcast = rng.random() < 0.35
        sun_el = np.radians(rng.uniform(12, 75))
        sun_az = rng.uniform(-np.pi, np.pi)
        sun_dir = -np.array([np.sin(sun_az) * np.cos(sun_el), np.sin(sun_el), np.cos(sun_az) * np.cos(sun_el)])
        sun_col = _kelvin_rgb(rng.uniform(3800, 6500) if sun_el < np.radians(25) else rng.uniform(5200, 6500))
        sky = _kelvin_rgb(rng.uniform(7000, 14000)) * (0.55 if not overcast else 0.8)
        horizon = _kelvin_rgb(rng.uniform(6000, 9000)) * (0.7 if not overcast else 0.75)
        key = {"direction": _r(sun_dir, 5), "color": _r(sun_col), "intensity": _r(rng.uniform(0.25, 0.6) if overcast
                                                                                  else rng.uniform(1.6, 3.2)),
               "softness_m": _r(rng.uniform(0.06, 0.2) if overcast else rng.uniform(0.004, 0.02))}
        ground = floor * (np.asarray(key["color"]) * key["intensity"] * max(-sun_dir[1], 0.2) + sky * 0.5)
        env = {"kind": kind, "sky": _r(sky), "horizon": _r(horizon), "ground": _r(ground), "lobes": []}
    else:
        ceiling = _kelvin_rgb(rng.uniform(2900, 6500)) * rng.uniform(0.45, 0.9)
        for lamp in place.get("lamps", []):
            lobes.append({"direction": _r(_unit(lamp), 5), "width": _r(rng.uniform(0.05, 0.2)),
                          "color": _r(_kelvin_rgb(rng.uniform(2800, 6000))), "intensity": _r(rng.uniform(1.0, 4.0))})
        for window in place.get("windows", []):
            lobes.append({"direction": _r(_unit(window), 5), "width": _r(rng.uniform(0.08, 0.3)),
                          "color": _r(_kelvin_rgb(rng.uniform(5500, 10000))), "intensity": _r(rng.uniform(0.8, 3.0))})
        horizon = walls * ceiling * rng.uniform(0.7, 1.2)
        ground = floor * ceiling * rng.uniform(0.6, 1.0)
        if kind == "photo":  # light the person roughly like the photograph looks
            mean = np.asarray(place["image_mean"]) ** 2.2
            horizon = 0.5 * horizon + 0.5 * mean / max(mean.max(), 1e-3) * 0.7
        env = {"kind": kind, "sky": _r(ceiling), "horizon": _r(horizon), "ground": _r(ground), "lobes": lobes}
        if lobes and rng.random() < 0.7:  # the key light comes from a lamp or window, else from above
            src = lobes[int(rng.integers(len(lobes)))]
            d = -np.asarray(src["direction"])
            d[1] = min(d[1], -0.25)  # lamps and windows light from above the horizon
        else:
            el, az = np.radians(rng.uniform(35, 85)), rng.uniform(-np.pi, np.pi)
            d = -np.array([np.sin(az) * np.cos(el), np.sin(el), np.cos(az) * np.cos(el)])
        key = {"direction": _r(_unit(d), 5), "color": _r(_kelvin_rgb(rng.uniform(2800, 6500))),
               "intensity": _r(rng.uniform(0.4, 2.2) if kind != "studio" else rng.uniform(1.0, 2.5)),
               "softness_m": _r(rng.uniform(0.02, 0.15))}
    coeffs = sh_coefficients(env)
    # the camera's auto white balance: divide by the light's colour (most of the way), with a small error
    light = coeffs[0] * 0.282095 + np.asarray(key["color"]) * key["intensity"] * 0.3
    wb = np.exp(rng.normal(0, 0.05, 3)) / np.maximum(light / light.max(), 0.05) ** rng.uniform(0.6, 1.0)
    wb /= wb[1]
    return {"environment": env, "sh": [_r(c, 5) for c in coeffs], "key": key,
            "exposure_ev": _r(rng.normal(0.0, 0.35)), "grey": _r(rng.uniform(0.2, 0.36)),
            "white_balance": _r(wb), "tone_shoulder": _r(rng.uniform(0.6, 1.0)),
            "tone_contrast": _r(rng.uniform(0.0, 0.7))}


# --- shading -------------------------------------------------------------------------------------------------

def shade(albedo: np.ndarray, normal: np.ndarray, view: np.ndarray, lighting: dict, *, ao=None, shadow=None,
          specular=None, shininess=None, tangent=None) -> np.ndarray:
    """(P, 3) linear radiance.

    Args:
        albedo: (P, 3) linear albedo.  normal: (P, 3) unit shading normals (world).  view: (P, 3) unit vectors
        from the surface toward the camera (world).  ao: (P,) ambient visibility in [0, 1].  shadow: (P,) key
        light visibility in [0, 1].  specular: (P,) highlight strength.  shininess: (P,) Blinn-Phong exponent.
        tangent: (P, 3) unit strand directions for hair (Kajiya-Kay highlight), rows of zeros elsewhere.
    """
    p = len(albedo)
    ao = np.ones(p) if ao is None else ao
    shadow = np.ones(p) if shadow is None else shadow
    coeffs = np.asarray(lighting["sh"])
    key = lighting["key"]
    to_light = -np.asarray(key["direction"])
    key_rgb = np.asarray(key["color"]) * key["intensity"]
    ndl = np.clip(normal @ to_light, 0.0, None)
    env = sh_irradiance(coeffs, normal)
    diffuse = env * ao[:, None] + key_rgb[None] * (ndl * shadow)[:, None]
    out = albedo * diffuse
    if specular is not None:
        half = to_light[None] + view
        half /= np.maximum(np.linalg.norm(half, axis=1, keepdims=True), 1e-9)
        ndh = np.clip(np.einsum("ij,ij->i", normal, half), 0.0, 1.0)
        if tangent is not None:
            th = np.einsum("ij,ij->i", tangent, half)
            aniso = np.sqrt(np.clip(1 - th * th, 0, 1))
            ndh = np.where(np.abs(tangent).sum(1) > 0, aniso, ndh)
        lobe = specular * (ndh ** shininess) * (shininess + 2) / 8 * (ndl > 0) * shadow
        ndv = np.clip(np.einsum("ij,ij->i", normal, view), 0, 1)
        rim = specular * (1 - ndv) ** 4 * ao  # the environment's grazing reflection
        out = out + lobe[:, None] * key_rgb[None] + rim[:, None] * env
    return out


# --- shadows -------------------------------------------------------------------------------------------------

class ShadowMap:
    """Nearest caster depth per texel seen from a directional light (orthographic), built by splatting points.

    ``points``: (N, 3) world points on the casters (vertices of dense meshes); ``direction``: the way the light
    travels.  Texels are at least ``min_texel_m`` so the splatted vertices leave no holes after a 3x3 minimum.
    """

    def __init__(self, points: np.ndarray, direction, resolution: int = 160, min_texel_m: float = 0.012):
        from scipy.ndimage import minimum_filter

        w = -_unit(direction)  # toward the light
        u = _unit(np.cross(w, [0.0, 0.0, 1.0]) if abs(w[1]) > 0.9 else np.cross([0.0, 1.0, 0.0], w))
        v = np.cross(w, u)
        self.axes = np.stack([u, v, w])
        a = points @ self.axes.T
        self.lo = a[:, :2].min(0) - 0.05
        extent = float((a[:, :2].max(0) + 0.05 - self.lo).max())
        self.texel = max(extent / resolution, min_texel_m)
        self.n = int(np.ceil(extent / self.texel)) + 1
        ij = np.floor((a[:, :2] - self.lo) / self.texel).astype(np.int64)
        grid = np.full(self.n * self.n, -np.inf)
        np.maximum.at(grid, ij[:, 0] * self.n + ij[:, 1], a[:, 2])  # nearest to the light = largest w
        grid = grid.reshape(self.n, self.n)
        self.height = -minimum_filter(-grid, size=3, mode="constant", cval=np.inf)  # close 1-texel holes

    def visibility(self, points: np.ndarray, normals: np.ndarray, softness_m: float, taps: int = 8) -> np.ndarray:
        """(P,) fraction of the key light reaching ``points`` (world) with ``normals`` (percentage-closer)."""
        a = points @ self.axes.T
        cos = np.clip(normals @ self.axes[2], 0.05, 1.0)
        bias = self.texel * (1.5 + 1.5 * np.sqrt(1 - cos**2) / cos).clip(0, 8) + 0.004
        out = np.ones(len(points))
        rel = (a[:, :2] - self.lo) / self.texel
        inside = (rel[:, 0] >= -2) & (rel[:, 0] < self.n + 2) & (rel[:, 1] >= -2) & (rel[:, 1] < self.n + 2)
        if not inside.any():
            return out
        rel, depth, bias = rel[inside], a[inside, 2], bias[inside]
        radius = max(softness_m / self.texel, 0.7)
        k = np.arange(taps) + 0.5
        offs = np.stack([np.cos(k * 2.39996), np.sin(k * 2.39996)], 1) * (radius * np.sqrt(k / taps))[:, None]
        lit = np.zeros(len(rel))
        padded = np.pad(self.height, 1 + int(np.ceil(radius)) + 2, constant_values=-np.inf).ravel()
        pad = 1 + int(np.ceil(radius)) + 2
        stride = self.n + 2 * pad
        ru, rv = rel[:, 0] + pad, rel[:, 1] + pad
        top = depth + bias
        for du, dv in offs:
            i = np.clip((ru + du).astype(np.int64), 0, stride - 1)
            j = np.clip((rv + dv).astype(np.int64), 0, stride - 1)
            lit += top >= padded[i * stride + j]
        out[inside] = lit / taps
        return out


# --- ambient occlusion ---------------------------------------------------------------------------------------

def screen_space_ao(depth: np.ndarray, normal: np.ndarray, K: np.ndarray, size: tuple[int, int],
                    radius_m: float = 0.12, samples: int = 6, strength: float = 1.5) -> np.ndarray:
    """(H, W) = ``size`` ambient visibility in [0, 1] from the half-resolution planar ``depth`` (0 = nothing) and
    camera-frame ``normal`` of the even pixels of an (H, W) image with intrinsics ``K``.

    Every pixel looks at ``samples`` neighbours on a spiral whose radius in pixels is ``radius_m`` at the
    scene's median depth; a neighbour above the pixel's tangent plane and within ``2 * radius_m`` occludes
    (Alchemy AO, McGuire 2011); the result is upsampled by pixel doubling and a 3x3 box filter.
    """
    from scipy.ndimage import uniform_filter

    h, w = size
    d = depth.astype(np.float32)
    hh, ww = d.shape
    valid = d > 0
    if not valid.any():
        return np.ones((h, w))
    nx, ny, nz = (normal[..., k].astype(np.float32) for k in range(3))
    fx, fy, cx, cy = K[0, 0] / 2, K[1, 1] / 2, K[0, 2] / 2, K[1, 2] / 2
    px = ((np.arange(ww, dtype=np.float32) - cx) / fx)[None, :] * d
    py = ((np.arange(hh, dtype=np.float32) - cy) / fy)[:, None] * d
    r_px = float(np.clip(radius_m * fx / np.median(d[valid]), 2.0, 24.0))
    occ = np.zeros((hh, ww), np.float32)
    far = np.float32(4 * radius_m**2)
    for k in range(samples):
        ang = k * 2.39996 + 0.5
        rad = r_px * (0.3 + 0.7 * (k + 0.5) / samples)
        du, dv = int(round(np.cos(ang) * rad)), int(round(np.sin(ang) * rad))
        if du == 0 and dv == 0:
            continue
        a = (slice(max(0, -dv), hh - max(0, dv)), slice(max(0, -du), ww - max(0, du)))
        b = (slice(a[0].start + dv, a[0].stop + dv), slice(a[1].start + du, a[1].stop + du))
        vx, vy, vz = px[b] - px[a], py[b] - py[a], d[b] - d[a]
        dist2 = vx * vx + vy * vy + vz * vz
        dot = vx * nx[a] + vy * ny[a] + vz * nz[a]
        contrib = np.maximum(dot - 0.01 * d[a], 0) / (dist2 + 1e-4) * np.maximum(1 - dist2 / far, 0)
        occ[a] += np.where(valid[a] & valid[b], contrib, 0)
    vis = np.clip(1 - strength * 2.0 * radius_m * occ / samples, 0.0, 1.0)
    vis = np.where(valid, vis, np.float32(1.0)).repeat(2, 0).repeat(2, 1)[:h, :w]
    return uniform_filter(vis, 3)


# --- camera response -----------------------------------------------------------------------------------------

def expose(radiance: np.ndarray, weight: np.ndarray, lighting: dict) -> tuple[np.ndarray, float]:
    """Scale linear ``radiance`` (H, W, 3) so its ``weight``-weighted mean luminance is the sampled grey level
    (times 2^exposure_ev) and apply the white-balance gains; returns ``(image, scale)``."""
    lum = radiance @ np.array([0.2126, 0.7152, 0.0722])
    mean = float((lum * weight).sum() / max(weight.sum(), 1e-9))
    scale = lighting["grey"] * 2.0 ** lighting["exposure_ev"] / max(mean, 1e-6)
    return radiance * scale * np.asarray(lighting["white_balance"]), scale


def tone_map(linear: np.ndarray, shoulder: float = 0.8, contrast: float = 0.0) -> np.ndarray:
    """Linear (>= 0) -> display-referred [0, 1]: a soft shoulder above ``shoulder``, sRGB encoding, then an
    S-curve (``contrast`` in [0, 1]: 0 none, 1 a full smoothstep), as a camera's picture style does.

    Finite for every input that is not NaN and every ``shoulder`` in [0, 1] (1 included, which the sampled
    shoulder can round to): the shoulder's width is at least 1e-3 and the exponent is bounded (``exp(-40)`` is
    below the float precision of 1), so neither a division by zero nor an overflow can occur, even for inf."""
    x = np.clip(linear, 0.0, None)
    over = x > shoulder
    if over.any():
        span = max(1.0 - shoulder, 1e-3)
        x = x.copy()
        x[over] = shoulder + span * (1 - np.exp(-np.minimum(x[over] - shoulder, 40.0 * span) / span))
    y = np.where(x <= 0.0031308, x * 12.92, 1.055 * np.power(np.clip(x, 0.0031308, 1.0), 1 / 2.4) - 0.055)
    return y if contrast <= 0 else (1 - contrast) * y + contrast * y * y * (3 - 2 * y)
