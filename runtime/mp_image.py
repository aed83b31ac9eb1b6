"""`Image` and `ImageFormat` with MediaPipe's names, so code written for `mp.Image` runs as is.

image = Image.create_from_file("photo.jpg")                 # RGB
image = Image(image_format=ImageFormat.SRGB, data=rgb)       # wraps a numpy array
landmarker.detect(image)
"""

from __future__ import annotations

import enum
import os

import cv2
import numpy as np

from blazepose_onnx.common.errors import InvalidTypeError, InvalidValueError
from blazepose_onnx.common.quiet import native_stderr_silenced


class ImageFormat(enum.Enum):
    """Pixel layouts of MediaPipe's ImageFormat that the landmarker reads."""

    SRGB = "rgb"
    SRGBA = "rgba"
    GRAY8 = "gray"


class Image:
    """An image with MediaPipe's `mp.Image` interface (`numpy_view()`, width, height).

    Args:
        image_format: the layout of `data`: SRGB (HxWx3), SRGBA (HxWx4) or GRAY8 (HxW).
        data: the pixels (not copied).

    Raises:
        InvalidTypeError: `image_format` is not an ImageFormat, or `data` not a numpy array.
    """

    def __init__(self, image_format: ImageFormat, data: np.ndarray) -> None:
        if not isinstance(image_format, ImageFormat):
            raise InvalidTypeError(f"image_format must be an ImageFormat, got {image_format!r}")
        if not isinstance(data, np.ndarray):
            raise InvalidTypeError(f"data must be a numpy array, got {type(data).__name__}")
        self.image_format = image_format
        self._data = data

    @classmethod
    def create_from_file(cls, file_name: str | os.PathLike) -> Image:
        """Decode an image file to SRGB (SRGBA when it has an alpha channel, GRAY8 when gray).

        Args:
            file_name: the image file (any format OpenCV reads).

        Returns:
            The decoded image.

        Raises:
            InvalidValueError: the file is missing or not a readable image.
        """
        with native_stderr_silenced():
            decoded = cv2.imread(str(file_name), cv2.IMREAD_UNCHANGED)
        if decoded is None:
            raise InvalidValueError(f"not a readable image: {file_name}")
        if decoded.ndim == 2:
            return cls(ImageFormat.GRAY8, decoded)
        if decoded.shape[2] == 4:
            return cls(ImageFormat.SRGBA, cv2.cvtColor(decoded, cv2.COLOR_BGRA2RGBA))
        return cls(ImageFormat.SRGB, cv2.cvtColor(decoded[:, :, :3], cv2.COLOR_BGR2RGB))

    @property
    def width(self) -> int:
        """Its width in pixels."""
        return int(self._data.shape[1])

    @property
    def height(self) -> int:
        """Its height in pixels."""
        return int(self._data.shape[0])

    @property
    def channels(self) -> int:
        """Its channels: 1, 3 or 4."""
        return 1 if self._data.ndim == 2 else int(self._data.shape[2])

    def numpy_view(self) -> np.ndarray:
        """The pixels, read-only, as MediaPipe returns them."""
        view = self._data.view()
        view.flags.writeable = False
        return view
