"""MediaPipe's `mediapipe.framework` path, for ported code: `framework.formats.landmark_pb2`."""
