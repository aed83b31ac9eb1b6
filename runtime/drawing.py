"""Drawing utilities in the spirit of MediaPipe's `drawing_utils`: skeleton, landmarks, masks.

Images are drawn on in place (uint8, HxWx3, any channel order: colours are given in the same
order as the image). Landmark colour shows visibility, from red (0) to green (1).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from blazepose_onnx.common.errors import InvalidTypeError, InvalidValueError
from blazepose_onnx.landmarks import POSE_CONNECTIONS
from blazepose_onnx.results import Landmark, PoseLandmarkerResult

LOW_VISIBILITY_COLOR = (255, 48, 48)
HIGH_VISIBILITY_COLOR = (48, 255, 96)
CONNECTION_COLOR = (224, 224, 224)
# Skeleton colour per pose id (id 0 keeps the neutral colour); later ids: `id_color`.
ID_COLORS = (CONNECTION_COLOR, (255, 196, 64), (96, 200, 255), (255, 96, 200), (160, 255, 96),
             (200, 128, 255), (255, 160, 128), (64, 255, 224))  # fmt: skip
MASK_COLOR = (64, 160, 255)
GOLDEN_RATIO = 0.618033988749895
LABEL_OUTLINE = (0, 0, 0)


def id_color(pose_id: int) -> tuple[int, int, int]:
    """A pose id's colour: ID_COLORS for the first ids, then hues a golden-ratio turn apart
    (neighbouring ids never look alike, however many a long video hands out)."""
    if 0 <= pose_id < len(ID_COLORS):
        return ID_COLORS[pose_id]
    hue = round(180 * ((pose_id * GOLDEN_RATIO) % 1.0))
    hsv = np.array([[[hue, 170, 255]]], np.uint8)
    red, green, blue = (int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0])
    return red, green, blue


def draw_label(image: np.ndarray, landmarks: np.ndarray, text: str, color) -> np.ndarray:
    """`text` in `color` (outlined) just above a (33, >=2) pose's landmarks (in place)."""
    height, width = image.shape[:2]
    pixels = landmarks[:, :2] * (width, height)
    scale = max(0.4, min(height, width) / 900)
    thickness = max(1, round(2 * scale))
    (text_width, text_height), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    x = int(np.clip(pixels[0, 0] - text_width / 2, 0, max(width - text_width, 0)))
    y = int(np.clip(pixels[:, 1].min() - 6, text_height, height - 1))
    for ink, weight in ((LABEL_OUTLINE, thickness + 2), (color, thickness)):
        cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, ink, weight, cv2.LINE_AA)
    return image


def check_canvas(image: np.ndarray) -> None:
    """Refuse what cannot be drawn on in place (InvalidTypeError, InvalidValueError)."""
    if (
        not isinstance(image, np.ndarray)
        or image.dtype != np.uint8
        or image.ndim != 3
        or image.shape[2] != 3
    ):
        raise InvalidTypeError("drawing needs an HxWx3 uint8 numpy image")
    if not image.flags.writeable:
        raise InvalidValueError(
            "the image is read-only (drawing is in place): draw on image.copy()"
        )


def visibility_colors(visibility: np.ndarray) -> np.ndarray:
    """(n, 3) uint8 colours blending red (visibility 0) to green (visibility 1)."""
    t = np.clip(np.asarray(visibility, np.float64), 0.0, 1.0)[:, None]
    low, high = np.array(LOW_VISIBILITY_COLOR), np.array(HIGH_VISIBILITY_COLOR)
    return np.rint(low + (high - low) * t).astype(np.uint8)


def draw_pose(
    image: np.ndarray,
    landmarks: np.ndarray,
    connections: Sequence[tuple[int, int]] = POSE_CONNECTIONS,
    min_visibility: float = 0.0,
    thickness: int | None = None,
    color: tuple[int, int, int] = CONNECTION_COLOR,
) -> np.ndarray:
    """Draw one pose from a (33, >=4) array of normalised x, y, z, visibility (in place; a
    non-contiguous view, e.g. a crop or a channel flip, is drawn through a contiguous copy).
    `color` is the skeleton's; landmarks show their visibility."""
    check_canvas(image)
    if not image.flags.c_contiguous:  # OpenCV draws on contiguous buffers only
        canvas = np.ascontiguousarray(image)
        image[...] = draw_pose(canvas, landmarks, connections, min_visibility, thickness, color)
        return image
    height, width = image.shape[:2]
    thickness = thickness or max(1, round(min(height, width) / 300))
    pixels = np.rint(landmarks[:, :2] * (width, height)).astype(np.int32)
    visible = landmarks[:, 3] >= min_visibility
    segments = [pixels[[a, b]] for a, b in connections if visible[a] and visible[b]]
    cv2.polylines(
        image,
        segments,
        isClosed=False,
        color=color,
        thickness=thickness,
        lineType=cv2.LINE_AA,
    )
    for point, color in zip(pixels[visible], visibility_colors(landmarks[visible, 3]), strict=True):
        cv2.circle(
            image,
            tuple(int(v) for v in point),
            thickness + 2,
            tuple(int(c) for c in color),
            -1,
            cv2.LINE_AA,
        )
    return image


def draw_mask(
    image: np.ndarray,
    mask: np.ndarray,
    color: tuple[int, int, int] = MASK_COLOR,
    alpha: float = 0.45,
) -> np.ndarray:
    """Blend `color` into the image where the float mask is high (in place)."""
    check_canvas(image)
    if mask.shape != image.shape[:2]:
        raise InvalidValueError(
            f"mask shape {mask.shape} does not match the image {image.shape[:2]}"
        )
    weight = (np.clip(mask, 0.0, 1.0) * alpha)[..., None]
    blended = image * (1.0 - weight) + np.asarray(color, np.float64) * weight
    image[...] = np.rint(blended).astype(np.uint8)
    return image


def draw_landmarks(
    image: np.ndarray,
    landmarks: PoseLandmarkerResult | Sequence[Landmark],
    connections: Sequence[tuple[int, int]] = POSE_CONNECTIONS,
    *,
    draw_masks: bool = True,
    min_visibility: float = 0.0,
    label_ids: bool = False,
) -> np.ndarray:
    """Draw poses in place: a whole result, or one pose's landmark list as MediaPipe's
    `draw_landmarks` takes.

    Args:
        image: an HxWx3 uint8 RGB array, drawn on in place.
        landmarks: a result (every pose, its skeleton coloured by pose id, and its masks when
            present), or one pose's landmarks.
        connections: the skeleton's landmark pairs.
        draw_masks: blend a result's segmentation masks in.
        min_visibility: landmarks (and their connections) less visible than this are left
            out.
        label_ids: write each pose's id above it, in its colour.

    Returns:
        `image`, drawn on.

    Raises:
        InvalidTypeError: `image` is not an HxWx3 uint8 numpy array.
        InvalidValueError: `image` is read-only.
    """
    check_canvas(image)
    if not image.flags.c_contiguous:  # OpenCV draws on contiguous buffers only
        canvas = np.ascontiguousarray(image)
        image[...] = draw_landmarks(
            canvas,
            landmarks,
            connections,
            draw_masks=draw_masks,
            min_visibility=min_visibility,
            label_ids=label_ids,
        )
        return image
    ids = [0]
    if isinstance(landmarks, PoseLandmarkerResult):
        if draw_masks and landmarks.segmentation_masks:
            for mask in landmarks.segmentation_masks:
                draw_mask(image, mask)
        poses, ids = landmarks.as_arrays()[0], landmarks.pose_ids
    else:
        poses = np.array(
            [[(p.x, p.y, p.z, p.visibility, p.presence) for p in landmarks]], np.float64
        )
    for pose, pose_id in zip(poses, ids, strict=True):
        color = id_color(pose_id)
        draw_pose(image, pose, connections, min_visibility=min_visibility, color=color)
        if label_ids:
            draw_label(image, pose, f"id {pose_id}", color)
    return image
