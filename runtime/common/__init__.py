"""Shared ground of the converter and the runtime (internal, not public API): the error base
and exit codes (`errors`), atomic file writing (`fileio`), install hints and the one
missing-extra check (`install`), sha256 of files (`digest`), which files are photos and videos
(`media`), keeping native libraries quiet (`quiet`) and counted nouns (`plural`).

The converter imports nothing of the runtime but this package, and this package imports nothing
else of blazepose_onnx (tests/test_layout.py)."""
