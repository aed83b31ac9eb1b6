"""The pipeline's stages, one frame at a time: the pose detector (anchors, SSD decoding,
weighted NMS), ROIs and crops, the landmarker (decoding, refinement, projection), person boxes
and the pluggable person detectors (the built-in SSD), box orientation, duplicate poses, and
`pose_pipeline.PosePipeline`, which runs them on the two models."""
