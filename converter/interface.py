"""The ONNX interface both backends produce: tensor names, layouts and metadata_props.

Detector   input  `image` [N,3,224,224] float32 RGB in [-1, 1]
           output `boxes` [N,2254,12]  per anchor: box cx, cy, w, h then 4 keypoints (x, y),
                                       raw offsets in 224-px units
           output `scores` [N,2254,1]  raw score logits
Landmarker input  `image` [N,3,256,256] float32 RGB in [0, 1]
           output `landmarks` [N,195]  39 x (x, y, z, visibility logit, presence logit),
                                       x/y/z in 256-px crop units
           output `pose_flag` [N,1]    pose presence probability
           output `segmentation` [N,1,256,256] segmentation logits
           output `heatmap` [N,39,64,64] heatmap logits
           output `world_landmarks` [N,117] 39 x (x, y, z) metres, hip-centred
Person detector (SSD, built-in `ssd`)
           input  `image` [N,3,300,300] float32 RGB in [-1, 1]
           output `boxes` [N,1917,4]   per anchor: ty, tx, th, tw box encodings (MediaPipe's
                                       SSD decoding: scales 10, 10, 5, 5, exponential size)
           output `scores` [N,1917,24] class logits (Open Images labels; 4 = Person)
"""

from __future__ import annotations

import hashlib
import json

import onnx

from blazepose_onnx.converter import CONVERTER_VERSION
from blazepose_onnx.converter.errors import ModelFormatError

INPUT_NAME = "image"
# IR version 8 goes with opset 17 (ONNX 1.12); newer onnx packages write newer IRs that older
# runtimes (e.g. onnxruntime-openvino 1.24: max IR 13) refuse to load.
IR_VERSION = 8
BATCH_DIM = "batch"  # the name of every converted model's batch dimension

# TFLite tensor name -> (ONNX name, layout) per role; the TFLite names are MediaPipe's.
OUTPUTS = {
    "detector": {
        "Identity": ("boxes", "N,2254,12: cx,cy,w,h,kp0x,kp0y..kp3x,kp3y (224-px offsets)"),
        "Identity_1": ("scores", "N,2254,1: logits"),
    },
    "landmarker": {
        "Identity": ("landmarks", "N,195: 39 x (x,y,z,visibility logit,presence logit), 256-px"),
        "Identity_1": ("pose_flag", "N,1: probability"),
        "Identity_2": ("segmentation", "N,1,256,256: logits"),
        "Identity_3": ("heatmap", "N,39,64,64: logits"),
        "Identity_4": ("world_landmarks", "N,117: 39 x (x,y,z) metres"),
    },
    "person_detector": {
        "raw_outputs/box_encodings": ("boxes", "N,1917,4: ty,tx,th,tw (SSD box encodings)"),
        "raw_outputs/class_predictions": ("scores", "N,1917,24: class logits, 4 = Person"),
    },
}
INPUT_SIZE = {"detector": 224, "landmarker": 256, "person_detector": 300}
INPUT_RANGE = {"detector": (-1.0, 1.0), "landmarker": (0.0, 1.0), "person_detector": (-1.0, 1.0)}
DESCRIPTIONS = {"detector": "pose detector", "landmarker": "pose landmarker"}


def finish_model(
    model: onnx.ModelProto,
    role: str,
    *,
    variant: str,
    source: bytes,
    source_fingerprint: str,
    backend: str,
    weights: str,
    precision: str = "fp32",
) -> onnx.ModelProto:
    """Rename graph I/O to the interface names, make the batch symbolic, record metadata."""
    graph = model.graph
    renames = {graph.input[0].name: INPUT_NAME}
    for output in graph.output:
        if output.name not in OUTPUTS[role]:
            raise ModelFormatError(f"{role}: unexpected output {output.name!r}")
        renames[output.name] = OUTPUTS[role][output.name][0]
    for node in graph.node:
        node.input[:] = [renames.get(n, n) for n in node.input]
        node.output[:] = [renames.get(n, n) for n in node.output]
    for value in (*graph.input, *graph.output):
        value.name = renames[value.name]
        value.type.tensor_type.shape.dim[0].dim_param = BATCH_DIM
    del graph.value_info[:]  # intermediate shapes may carry a fixed batch of 1
    low, high = INPUT_RANGE[role]
    metadata = {
        "blazepose.role": role,
        "blazepose.variant": variant,
        "blazepose.source_sha256": hashlib.sha256(source).hexdigest(),
        "blazepose.weights_fingerprint": source_fingerprint,
        "blazepose.input": INPUT_NAME,
        "blazepose.input_layout": "NCHW",
        "blazepose.input_color": "RGB",
        "blazepose.input_range": json.dumps([low, high]),
        "blazepose.input_size": str(INPUT_SIZE[role]),
        "blazepose.outputs": json.dumps({name: layout for name, layout in OUTPUTS[role].values()}),
        "blazepose.backend": backend,
        "blazepose.weights": weights,
        "blazepose.precision": precision,
        "blazepose.converter_version": CONVERTER_VERSION,
    }
    onnx.helper.set_model_props(model, metadata)
    model.ir_version = IR_VERSION
    model.producer_name = "blazepose-onnx"
    model.producer_version = CONVERTER_VERSION
    what = DESCRIPTIONS.get(role, role.replace("_", " "))
    model.doc_string = f"MediaPipe {what} ({variant}) converted by blazepose-onnx"
    onnx.checker.check_model(model)
    return model


def read_metadata(model: onnx.ModelProto) -> dict[str, str]:
    """The model's metadata_props as a dict."""
    return {prop.key: prop.value for prop in model.metadata_props}
