#!/usr/bin/env bash
# Regenerate tests/golden/{image,video}.json with MediaPipe itself.
# Needs the project installed in the current Python (for fetching bundles) and network access
# to PyPI. MediaPipe lives in throwaway virtual environments, never in the project's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${GOLDEN_WORK_DIR:-$(mktemp -d)}
python -m blazepose_onnx.cli.convert fetch all --model-dir "$work/registry"

python3 -m venv "$work/mp-0.10.18"        # metadata writer (broken in the 1.2.2 wheel)
"$work/mp-0.10.18/bin/pip" install -q mediapipe==0.10.18
mkdir -p "$work/bundles"
for variant in lite full heavy; do
  "$work/mp-0.10.18/bin/python" "$here/add_metadata.py" \
    "$work/registry/pose_landmarker_$variant.task" "$work/bundles/pose_landmarker_$variant.task"
done

python3 -m venv "$work/mp-1.2.2"
"$work/mp-1.2.2/bin/pip" install -q mediapipe==1.2.2
"$work/mp-1.2.2/bin/python" "$here/make_goldens.py" "$work/bundles" "$here"
echo "goldens written to $here (work dir: $work)"
