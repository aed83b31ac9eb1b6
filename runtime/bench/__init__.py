"""The benchmark engine, as a library: the timed cases (`cases`: IMAGE batches, VIDEO streams,
parallel streams, many people, MediaPipe's own PoseLandmarker), which of them a run times
(`plan`), per-step timing split by model (`timing`), what the numbers were measured on
(`machine`), the results' schema with their JSON and Markdown forms (`results`), and
multi-person clips with identities known by construction (`composed_clips`).

`blazepose bench` is its command line; `blazepose_onnx.report` draws pages from its JSON, and
the scripts in the repository's benchmarks/ time with it.
"""
