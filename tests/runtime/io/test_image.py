"""Input images: colour orders, dtypes, views, and what bad input raises."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from blazepose_onnx.io.image import check_rotation, rotate_clockwise, to_rgb_uint8, unrotate_points


@pytest.fixture()
def rgb(images):
    return images["bus"][:200, :150].copy()


def test_color_orders_give_the_same_rgb(rgb):
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    rgba = cv2.cvtColor(rgb, cv2.COLOR_RGB2RGBA)
    bgra = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGRA)
    assert np.array_equal(to_rgb_uint8(rgb), rgb)
    assert np.array_equal(to_rgb_uint8(bgr, "bgr"), rgb)
    assert np.array_equal(to_rgb_uint8(rgba), rgb)
    assert np.array_equal(to_rgb_uint8(rgba, "rgba"), rgb)
    assert np.array_equal(to_rgb_uint8(bgra, "bgra"), rgb)
    assert np.array_equal(to_rgb_uint8(bgra, "bgr"), rgb)


def test_gray_and_float_input(rgb):
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    out = to_rgb_uint8(gray)
    assert out.shape == rgb.shape and np.array_equal(out[..., 0], gray)
    assert np.array_equal(to_rgb_uint8(gray[..., None], "gray"), out)
    assert np.array_equal(to_rgb_uint8(rgb.astype(np.float32) / 255), rgb)
    assert np.array_equal(to_rgb_uint8(rgb.astype(np.float64) / 255), rgb)


def test_non_contiguous_views(rgb):
    view = rgb[::2, ::3]
    assert not view.flags.c_contiguous
    out = to_rgb_uint8(view)
    assert out.flags.c_contiguous and np.array_equal(out, view)
    flipped = rgb[:, ::-1, ::-1]  # a BGR view of RGB data, negative strides
    assert np.array_equal(to_rgb_uint8(flipped, "bgr"), rgb[:, ::-1])


@pytest.mark.parametrize(
    ("image", "error", "message"),
    [
        (np.zeros((10, 10, 3, 1), np.uint8), ValueError, "HxW"),
        (np.zeros((10, 10, 2), np.uint8), ValueError, "HxWx3"),
        (np.zeros((0, 10, 3), np.uint8), ValueError, "empty"),
        (np.zeros((10, 10, 3), np.int16), TypeError, "dtype"),
        (np.full((10, 10, 3), np.nan, np.float32), ValueError, "NaN"),
        (np.full((10, 10, 3), 2.0, np.float32), ValueError, r"\[0, 1\]"),
        (np.zeros((4, 100, 3), np.uint8), ValueError, "too small"),
        ([[0, 0, 0]], TypeError, "numpy array"),
    ],
)
def test_bad_images_raise_clear_errors(image, error, message):
    with pytest.raises(error, match=message):
        to_rgb_uint8(image)


def test_bad_color_arguments(rgb):
    with pytest.raises(ValueError, match="color must be one of"):
        to_rgb_uint8(rgb, "yuv")
    with pytest.raises(ValueError, match="needs 4 channels"):
        to_rgb_uint8(rgb, "rgba")


def test_rotation_checks():
    assert [check_rotation(d) for d in (0, 90, -90, 450)] == [0, 90, 270, 90]
    with pytest.raises(ValueError, match="multiple of 90"):
        check_rotation(45)
    with pytest.raises(TypeError, match="must be an int"):
        check_rotation(90.0)


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_unrotate_inverts_the_rotation_of_pixel_positions(degrees):
    height, width = 30, 50
    image = np.zeros((height, width), np.uint8)
    image[7, 11] = 255
    rotated = rotate_clockwise(image, degrees)
    row, col = np.argwhere(rotated == 255)[0]
    centre = np.array([[[(col + 0.5) / rotated.shape[1], (row + 0.5) / rotated.shape[0], 0.0]]])
    back = unrotate_points(centre, degrees)[0, 0]
    np.testing.assert_allclose(back[:2], [(11 + 0.5) / width, (7 + 0.5) / height])
