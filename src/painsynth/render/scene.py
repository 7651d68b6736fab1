"""Randomised lighting and backgrounds, drawn from a seeded generator."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from scipy import ndimage

BACKGROUND_KINDS = ("solid", "gradient", "noise", "image")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


class SceneError(ValueError):
    """A background folder or image cannot be used."""


def kelvin_to_rgb(kelvin: float) -> np.ndarray:
    """Linear-light RGB of a black body, normalised so the brightest channel is 1.

    Tanner Helland's fit of the CIE colour-matching data, good to a few percent from 1,000 to 40,000 K.
    """
    t = kelvin / 100.0
    red = 255.0 if t <= 66 else 329.698727446 * (t - 60) ** -0.1332047592
    green = 99.4708025861 * np.log(t) - 161.1195681661 if t <= 66 else 288.1221695283 * (t - 60) ** -0.0755148492
    blue = 255.0 if t >= 66 else (0.0 if t <= 19 else 138.5177312231 * np.log(t - 10) - 305.0447927307)
    srgb = np.clip([red, green, blue], 0, 255) / 255.0
    linear = srgb**2.2
    return (linear / linear.max()).astype(np.float32)


@dataclass(frozen=True)
class Lighting:
    key_direction: tuple[float, float, float]  # towards the light, world axes
    key_color: tuple[float, float, float]  # linear RGB times intensity
    fill_direction: tuple[float, float, float]
    fill_color: tuple[float, float, float]
    ambient_color: tuple[float, float, float]
    key_kelvin: float

    def to_dict(self) -> dict:
        return asdict(self)


def _direction(azimuth_deg: float, elevation_deg: float) -> tuple[float, float, float]:
    """Unit vector from the head towards a light at this azimuth (0 = in front, +x = subject's left)."""
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    return (float(np.sin(az) * np.cos(el)), float(-np.cos(az) * np.cos(el)), float(np.sin(el)))


def sample_lighting(rng: np.random.Generator) -> Lighting:
    """Studio-like key/fill lighting with random direction, intensity and colour temperature."""
    key_azimuth = rng.uniform(-65, 65)
    key_kelvin = rng.uniform(2800, 7500)
    fill_kelvin = rng.uniform(4000, 8000)
    key = kelvin_to_rgb(key_kelvin) * rng.uniform(0.85, 1.35)
    fill = kelvin_to_rgb(fill_kelvin) * rng.uniform(0.15, 0.45)
    ambient = kelvin_to_rgb(rng.uniform(5000, 9000)) * rng.uniform(0.12, 0.25)
    return Lighting(
        key_direction=_direction(key_azimuth, rng.uniform(5, 50)),
        key_color=tuple(map(float, key)),
        fill_direction=_direction(-np.sign(key_azimuth) * rng.uniform(30, 80), rng.uniform(-10, 30)),
        fill_color=tuple(map(float, fill)),
        ambient_color=tuple(map(float, ambient)),
        key_kelvin=float(key_kelvin),
    )


def background_images(folder: str | Path) -> list[Path]:
    """The image files of a user background folder, sorted; an error if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SceneError(f"{folder}: background folder does not exist")
    images = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not images:
        raise SceneError(f"{folder}: background folder has no images ({', '.join(IMAGE_SUFFIXES)})")
    return images


def check_background_images(images: list[Path]) -> None:
    """Decode every image once so a corrupt file fails before any rendering starts."""
    for path in images:
        try:
            with Image.open(path) as image:
                image.load()
        except (UnidentifiedImageError, OSError) as exc:
            raise SceneError(f"{path}: background image cannot be decoded ({exc})") from None


def _random_color(rng: np.random.Generator) -> np.ndarray:
    # Muted colours, as behind people in clinical or home video; never pure black or white.
    hue_mix = rng.dirichlet([2.0, 2.0, 2.0])
    return np.clip(rng.uniform(0.15, 0.85) * (0.75 + 0.75 * hue_mix), 0.05, 0.95)


def make_background(
    kind: str, size: tuple[int, int], rng: np.random.Generator, images: list[Path] | None = None
) -> np.ndarray:
    """A background as uint8 sRGB [H, W, 3]."""
    width, height = size
    if kind == "solid":
        pixels = np.broadcast_to(_random_color(rng), (height, width, 3))
    elif kind == "gradient":
        angle = rng.uniform(0, 2 * np.pi)
        ys, xs = np.mgrid[0:height, 0:width] / max(width, height)
        ramp = np.clip(0.5 + (xs - 0.5) * np.cos(angle) + (ys - 0.5) * np.sin(angle), 0, 1)[..., None]
        pixels = (1 - ramp) * _random_color(rng) + ramp * _random_color(rng)
    elif kind == "noise":
        # Blotchy light and shade over one colour, like an out-of-focus room, not confetti.
        coarse = rng.uniform(-1, 1, (6, 6))
        shade = ndimage.zoom(coarse, (height / coarse.shape[0] + 1e-9, width / coarse.shape[1] + 1e-9), order=3)
        tint = rng.uniform(-1, 1, (4, 4, 3))
        tint = ndimage.zoom(tint, (height / tint.shape[0] + 1e-9, width / tint.shape[1] + 1e-9, 1), order=1)
        pixels = np.clip(_random_color(rng) * (1 + 0.35 * shade[:height, :width, None]) + 0.05 * tint[:height, :width], 0, 1)
    elif kind == "image":
        if not images:
            raise SceneError("background kind 'image' needs a background folder (--backgrounds DIR)")
        return _image_background(images[rng.integers(len(images))], size, rng)
    else:
        raise SceneError(f"unknown background kind {kind!r}; allowed: {', '.join(BACKGROUND_KINDS)}")
    return (np.asarray(pixels) * 255).round().astype(np.uint8)


def _image_background(path: Path, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    width, height = size
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise SceneError(f"{path}: background image cannot be decoded ({exc})") from None
    scale = max(width / image.width, height / image.height) * rng.uniform(1.0, 1.4)
    image = image.resize((max(width, round(image.width * scale)), max(height, round(image.height * scale))))
    left = rng.integers(0, image.width - width + 1)
    top = rng.integers(0, image.height - height + 1)
    return np.asarray(image.crop((left, top, left + width, top + height)), dtype=np.uint8)
