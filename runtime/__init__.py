"""blazepose-onnx runtime: the MediaPipe Pose Landmarker pipeline over ONNX Runtime."""
