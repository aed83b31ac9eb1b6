"""MediaPipe's `mediapipe.framework.formats` path: `landmark_pb2`."""
