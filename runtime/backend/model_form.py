"""The form a provider needs its session models in (light: no onnx import)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelForm:
    """What a provider needs of the session models beyond the outputs: a fixed batch size (None:
    any), and the image input as float32 pixel values 0-255 instead of uint8 (CoreML's ML
    Program casts no uint8; the host's uint8 -> float32 cast is exact, so results are equal)."""

    batch: int | None = None
    float_input: bool = False

    @property
    def key(self) -> str:
        """'' for the default form, else what differs (part of the session cache's key)."""
        parts = ([] if self.batch is None else [f"batch={self.batch}"]) + (
            ["float_input"] if self.float_input else []
        )
        return "".join(f":{part}" for part in parts)


ANY_FORM = ModelForm()  # any batch, uint8 input: what every provider but CoreML gets
