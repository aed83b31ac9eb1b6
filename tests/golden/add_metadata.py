"""Make a registry-built .task bundle loadable by MediaPipe's PoseLandmarker.

The registry landmarker files lack the TFLite metadata (input normalisation) that the official
bundle carries and that MediaPipe Tasks requires. This adds it with MediaPipe's own metadata
writer. Run it with mediapipe==0.10.18 (the 1.2.2 wheel's copy of the writer is broken):

    python add_metadata.py IN.task OUT.task
"""

from __future__ import annotations

import sys
import zipfile

from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

DETECTOR = "pose_detector.tflite"
LANDMARKER = "pose_landmarks_detector.tflite"
OUTPUTS = ["Identity", "Identity_1", "Identity_2", "Identity_3", "Identity_4"]


def with_metadata(landmarker: bytes) -> bytes:
    writer = metadata_writer.MetadataWriter.create(landmarker)
    writer.add_general_info(
        model_name="pose_landmarks_detector", model_description="BlazePose GHUM 3D landmarker"
    )
    writer.add_image_input(norm_mean=[0.0], norm_std=[255.0])
    for name in OUTPUTS:
        writer.add_feature_output(name=name)
    model, _ = writer.populate()
    return model


def main(source: str, target: str) -> None:
    with zipfile.ZipFile(source) as bundle:
        detector, landmarker = bundle.read(DETECTOR), bundle.read(LANDMARKER)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as bundle:
        bundle.writestr(DETECTOR, detector)
        bundle.writestr(LANDMARKER, with_metadata(landmarker))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
