"""Input images: validation, colour conversion to RGB uint8, and rotation by 90-degree steps."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, get_args

import cv2
import numpy as np

from blazepose_onnx.common.errors import InvalidTypeError, InvalidValueError, MissingFileError
from blazepose_onnx.typing import ColorOrder, ImageLike

MIN_IMAGE_SIDE = 8
COLOR_ORDERS: tuple[ColorOrder, ...] = get_args(ColorOrder)
FLOAT_CHUNK_PIXELS = 1 << 20  # float images are converted in row blocks of about this size


def to_rgb_uint8(
    image: ImageLike, color: ColorOrder = "rgb", max_pixels: int | None = None
) -> np.ndarray:
    """Validate an image and return it as a contiguous HxWx3 uint8 RGB array.

    Accepts an image file's path (str or Path; decoded with its own channels, so `color`
    must stay 'rgb'), numpy arrays (HxW, HxWx1, HxWx3, HxWx4) of uint8, or float32/float64 in
    [0, 1], in the channel order `color` ('rgb' default as MediaPipe, 'bgr' for OpenCV, 'rgba',
    'bgra', 'gray'); 4-channel input defaults to RGBA. Objects with MediaPipe's
    `numpy_view()` (mp.Image) are accepted too. An image of more than `max_pixels` pixels
    is refused with ValueError before anything is copied.
    """
    if isinstance(image, (str, os.PathLike)):
        image, color = _read_file(image, color)
    if hasattr(image, "numpy_view") and not isinstance(image, np.ndarray):
        image = image.numpy_view()
    if not isinstance(image, np.ndarray):
        raise InvalidTypeError(f"image must be a numpy array, got {type(image).__name__}")
    if color not in COLOR_ORDERS:
        raise InvalidValueError(f"color must be one of {', '.join(COLOR_ORDERS)}, got {color!r}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise InvalidValueError(
            f"image must be HxW, HxWx1, HxWx3 or HxWx4, got shape {image.shape}"
        )
    if image.size == 0:
        raise InvalidValueError(f"image is empty (shape {image.shape})")
    if min(image.shape[:2]) < MIN_IMAGE_SIDE:
        raise InvalidValueError(
            f"image is too small ({image.shape[1]}x{image.shape[0]}): "
            f"both sides must be at least {MIN_IMAGE_SIDE} pixels"
        )
    height, width = image.shape[:2]
    if max_pixels is not None and height * width > max_pixels:
        raise InvalidValueError(
            f"image is too large ({width}x{height} = {height * width:,} pixels): the limit is "
            f"{max_pixels:,} (option max_image_pixels)"
        )
    image = _to_uint8(image)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    channels = image.shape[2]
    if color == "gray":
        raise InvalidValueError(
            f"color='gray' needs a single-channel image, got {channels} channels"
        )
    if channels == 3 and color in ("rgba", "bgra"):
        raise InvalidValueError(f"color={color!r} needs 4 channels, got 3")
    conversions = {
        (3, "bgr"): cv2.COLOR_BGR2RGB,
        (4, "rgb"): cv2.COLOR_RGBA2RGB,
        (4, "rgba"): cv2.COLOR_RGBA2RGB,
        (4, "bgr"): cv2.COLOR_BGRA2RGB,
        (4, "bgra"): cv2.COLOR_BGRA2RGB,
    }
    code = conversions.get((channels, color))
    if code is None:
        return np.ascontiguousarray(image)
    return cv2.cvtColor(np.ascontiguousarray(image), code)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    if image.dtype not in (np.float32, np.float64):
        raise InvalidTypeError(f"image dtype must be uint8, float32 or float64, got {image.dtype}")
    low, high = float(image.min()), float(image.max())  # NaN propagates into both
    if not (np.isfinite(low) and np.isfinite(high)):
        raise InvalidValueError("image contains NaN or infinite values")
    if low < 0.0 or high > 1.0:
        raise InvalidValueError(
            f"float images must be in [0, 1], got values in [{low:g}, {high:g}]"
        )
    out = np.empty(image.shape, np.uint8)
    rows = max(1, FLOAT_CHUNK_PIXELS // max(1, image.shape[1]))
    for top in range(0, image.shape[0], rows):  # bounded temporaries: no full float64 copy
        block = image[top : top + rows]
        out[top : top + rows] = np.rint(block * block.dtype.type(255.0))
    return out


def _read_file(path: str | os.PathLike, color: str) -> tuple[np.ndarray, ColorOrder]:
    """A decoded image file and its channel order."""
    from blazepose_onnx.mp_image import Image, ImageFormat

    if color != "rgb":
        raise InvalidValueError(
            f"color={color!r} applies to arrays; an image file is decoded as it is"
        )
    if not Path(path).is_file():
        raise MissingFileError(f"no such image file: {path}")
    decoded = Image.create_from_file(path)
    orders: dict[ImageFormat, ColorOrder] = {
        ImageFormat.SRGB: "rgb",
        ImageFormat.SRGBA: "rgba",
        ImageFormat.GRAY8: "gray",
    }
    return decoded.numpy_view(), orders[decoded.image_format]


def check_rotation(rotation_degrees: Any) -> int:
    """Validate `rotation_degrees` (a multiple of 90) and return it in {0, 90, 180, 270}."""
    if isinstance(rotation_degrees, bool) or not isinstance(rotation_degrees, (int, np.integer)):
        raise InvalidTypeError(
            f"rotation_degrees must be an int, got {type(rotation_degrees).__name__}"
        )
    if rotation_degrees % 90 != 0:
        raise InvalidValueError(
            f"rotation_degrees must be a multiple of 90, got {rotation_degrees}"
        )
    return int(rotation_degrees) % 360


def rotate_clockwise(image: np.ndarray, degrees: int) -> np.ndarray:
    """The image rotated clockwise by 0/90/180/270 degrees (contiguous)."""
    if degrees == 0:
        return image
    return np.ascontiguousarray(np.rot90(image, k=-(degrees // 90)))


def unrotate_points(points: np.ndarray, degrees: int, z_scale: float = 1.0) -> np.ndarray:
    """Map (..., >=3) normalised x/y/z found in the rotated image back to the original image.

    z is normalised by the image width, so it is multiplied by `z_scale` = rotated width /
    original width (a quarter turn swaps width and height).
    """
    if degrees == 0:
        return points
    out = points.copy()
    x, y = points[..., 0], points[..., 1]
    if degrees == 90:
        out[..., 0], out[..., 1] = y, 1.0 - x
    elif degrees == 180:
        out[..., 0], out[..., 1] = 1.0 - x, 1.0 - y
    else:
        out[..., 0], out[..., 1] = 1.0 - y, x
    out[..., 2] = points[..., 2] * z_scale
    return out
