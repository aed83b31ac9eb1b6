#!/usr/bin/env bash
# Regenerate tests/golden/legacy.json with MediaPipe 0.10.21's mp.solutions.pose.
# Run with the project installed in the current Python (it decodes the inputs and provides the
# bundles); MediaPipe lives in a throwaway virtual environment, never in the project's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${GOLDEN_WORK_DIR:-$(mktemp -d)}
python "$here/make_legacy_goldens.py" decode "$work"
python3 -m venv "$work/mp-0.10.21"
"$work/mp-0.10.21/bin/pip" install -q mediapipe==0.10.21   # numpy 1.26, opencv-contrib 4.11
"$work/mp-0.10.21/bin/python" "$here/make_legacy_goldens.py" run "$work" "$here"
echo "wrote $here/legacy.json (work dir: $work)"
