"""ONNX Runtime underneath: execution providers (names, options, checks, placement of nodes),
the models a `model` option means and the form each provider gets them in (graph edits, the
session cache), sessions with their batch rules, and the time spent inside each model."""
