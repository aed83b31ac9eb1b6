"""The serving tests need the `triton` extra (CI's triton stage, `pytest -m triton`): without
it they are not collected at all, like the other stages' tests are deselected by marker."""

from importlib.util import find_spec

collect_ignore = [] if find_spec("tritonclient") and find_spec("pytriton") else ["test_triton.py"]
