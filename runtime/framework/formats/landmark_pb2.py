"""MediaPipe's landmark protos (`mediapipe.framework.formats.landmark_pb2`) without protobuf:
`NormalizedLandmark`, `Landmark` and their lists, with the fields, defaults and `HasField` of the
messages, so code that builds them runs unchanged, e.g. MediaPipe's pose landmarker notebook:

    proto = landmark_pb2.NormalizedLandmarkList()
    proto.landmark.extend([landmark_pb2.NormalizedLandmark(x=p.x, y=p.y, z=p.z) for p in pose])
    solutions.drawing_utils.draw_landmarks(image, proto, solutions.pose.POSE_CONNECTIONS)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from blazepose_onnx.common.errors import InvalidTypeError, InvalidValueError

FIELDS = ("x", "y", "z", "visibility", "presence")  # landmark.proto's, all optional floats


class _Landmark:
    """A landmark message: float fields that read 0.0 until set; `HasField` says which were."""

    __slots__ = ("_set", *FIELDS)
    _set: set[str]

    def __init__(self, **fields: float) -> None:
        object.__setattr__(self, "_set", set())
        for name in FIELDS:
            object.__setattr__(self, name, 0.0)
        for name, value in fields.items():
            setattr(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in FIELDS:
            raise AttributeError(f'Protocol message {type(self).__name__} has no "{name}" field.')
        object.__setattr__(self, name, float(value))
        self._set.add(name)

    def HasField(self, name: str) -> bool:
        """Whether the field was set (as protobuf: False for an unset one, still 0.0)."""
        if name not in FIELDS:
            raise InvalidValueError(
                f'Protocol message {type(self).__name__} has no "{name}" field.'
            )
        return name in self._set

    def ClearField(self, name: str) -> None:
        self.HasField(name)  # the same error for an unknown name
        object.__setattr__(self, name, 0.0)
        self._set.discard(name)

    def CopyFrom(self, other: _Landmark) -> None:
        for name in FIELDS:
            self.ClearField(name)
            if other.HasField(name):
                setattr(self, name, getattr(other, name))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(
            getattr(self, n) == getattr(other, n) and self.HasField(n) == other.HasField(n)
            for n in FIELDS
        )

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in FIELDS if n in self._set)
        return f"{type(self).__name__}({shown})"


class NormalizedLandmark(_Landmark):
    """x, y normalised to the image, z on the scale of x, visibility and presence scores."""

    __slots__ = ()


class Landmark(_Landmark):
    """x, y, z in metres (world landmarks), visibility and presence scores."""

    __slots__ = ()


class _Landmarks(list):
    """A repeated landmark field: a list that takes messages of its type (`add`, `append`,
    `extend`), or any object with the fields (a Tasks result's landmark), copied."""

    def __init__(self, kind: type[_Landmark], items: Iterable[Any] = ()) -> None:
        super().__init__()
        self.kind = kind
        self.extend(items)

    def _message(self, item: Any) -> _Landmark:
        if isinstance(item, self.kind):
            copy = self.kind()
            copy.CopyFrom(item)
            return copy
        if not all(hasattr(item, name) for name in ("x", "y")):
            raise InvalidTypeError(f"expected {self.kind.__name__}, got {type(item).__name__}")
        values = {n: getattr(item, n, None) for n in FIELDS}
        return self.kind(**{n: v for n, v in values.items() if v is not None})

    def add(self, **fields: float) -> _Landmark:
        """Append a new landmark (with these fields set) and return it."""
        self.append(self.kind(**fields))
        return self[-1]

    def append(self, item: Any) -> None:
        super().append(self._message(item))

    def extend(self, items: Iterable[Any]) -> None:
        super().extend(self._message(item) for item in items)


class _LandmarkList:
    KIND: ClassVar[type[_Landmark]]

    def __init__(self, landmark: Iterable[Any] = ()) -> None:
        self.landmark = _Landmarks(self.KIND, landmark)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and list(self.landmark) == list(other.landmark)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.landmark)} landmarks)"


class NormalizedLandmarkList(_LandmarkList):
    """The `landmark` repeated field of NormalizedLandmark messages."""

    KIND = NormalizedLandmark


class LandmarkList(_LandmarkList):
    """The `landmark` repeated field of Landmark messages (world landmarks)."""

    KIND = Landmark


__all__ = ["Landmark", "LandmarkList", "NormalizedLandmark", "NormalizedLandmarkList"]
