"""MediaPipe's `mediapipe.tasks` path: `from blazepose_onnx.tasks import python`."""
