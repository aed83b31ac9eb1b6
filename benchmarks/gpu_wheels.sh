#!/usr/bin/env bash
# The GPU recipe: ONNX Runtime's CUDA build, this project and the converted models onto a GPU
# machine that has no network and takes at most 64 MiB per call (the device tool); see README
# "GPU servers". Its image has Python 3.12 with numpy, OpenCV, onnx, onnxruntime 1.30 (CPU),
# pytest, hypothesis and setuptools, and nothing of this project.
#
#   bash benchmarks/gpu_wheels.sh prepare   # here: .gpu/ (git-ignored) with the parts
#   bash benchmarks/gpu_wheels.sh plan      # here: the calls, one a line: carry paths TAB command
#   bash benchmarks/gpu_wheels.sh receive   # there: keep what this call carried in $GPU_TMP
#   bash benchmarks/gpu_wheels.sh check     # there, last: receive, install, check, gpu_check.py
#
# prepare writes .gpu/parts/ort.partNN (each below PART_SIZE) with SHA256SUMS, .gpu/wheels/
# (tflite, the one pure-Python dependency the image lacks; build/ holds the setuptools that
# builds this project there without network) and .gpu/models/ (lite/full/heavy with fp16
# weight storage, bit-identical results at half the size, one shared detector, plus full's
# fp16-compute pair: 53 MiB). Each call also carries the working tree (about 14 MiB), and they
# run back to back while the machine stays warm and keeps $GPU_TMP (default /tmp): one call per
# part, one for the heavy models, then `check` with lite and full and the wheels: it joins the
# parts and checks their sha256, installs onnxruntime-gpu, tflite and this project (built from
# the copied tree) into $GPU_TMP/site, checks that both import from there, and runs
# benchmarks/gpu_check.py $GPU_CHECK_ARGS (default --provider cuda --deadline 480) --out $OUT.
# CI runs the plan's commands as they are on CPU (.ci/run, "gpu recipe"): a fresh copy of the
# tree per call with only that call's carried paths, a plain Python 3.12 with the image's
# packages, GPU_CHECK_ARGS="--provider cpu --quick".
set -euo pipefail
cd "$(dirname "$0")/.."
ORT_GPU=${ORT_GPU:-onnxruntime-gpu==1.31.1}
PART_SIZE=${PART_SIZE:-50m}
GPU_TMP=${GPU_TMP:-/tmp}
PY_TAGS=(--python-version 3.12 --implementation cp --only-binary=:all:
         --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
         --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)

receive() {  # what this call carried, kept in $GPU_TMP for the calls after it
  mkdir -p "$GPU_TMP/ort-parts" "$GPU_TMP/gpu-models"
  if [ -d .gpu/parts ]; then cp .gpu/parts/* "$GPU_TMP/ort-parts/"; fi
  if [ -d .gpu/models ]; then cp -r .gpu/models/* "$GPU_TMP/gpu-models/"; fi
}

install() {  # join and check the parts, install everything into $GPU_TMP/site, check imports
  local dir=$GPU_TMP/ort-parts site=$GPU_TMP/site
  python3 -c 'import sys; assert sys.version_info[:2] == (3, 12), f"wheels for 3.12, not {sys.version}"'
  local wheel="$dir/$(awk '{print $2}' "$dir/SHA256SUMS")"
  cat "$dir"/ort.part* > "$wheel"
  (cd "$dir" && sha256sum -c SHA256SUMS)
  rm -rf "$site"
  python3 -m pip install -q --no-index --no-deps --no-compile --target "$site" \
      --find-links .gpu/wheels/build "$wheel" .gpu/wheels/*.whl .
  PYTHONPATH=$site python3 -c "
import sys, onnxruntime, blazepose_onnx
for module in (onnxruntime, blazepose_onnx):
    assert module.__file__.startswith(sys.argv[1]), (module.__name__, module.__file__)
print('installed into', sys.argv[1] + ':', 'blazepose_onnx', blazepose_onnx.__version__,
      'onnxruntime', onnxruntime.__version__, onnxruntime.get_available_providers())" "$site"
}

case "${1:-}" in
  prepare)
    rm -rf .gpu
    mkdir -p .gpu/download .gpu/parts .gpu/wheels/build
    python3 -m pip download -q --no-deps "${PY_TAGS[@]}" -d .gpu/download "$ORT_GPU"
    python3 -m pip download -q --no-deps "${PY_TAGS[@]}" -d .gpu/wheels tflite==2.18.0
    python3 -m pip download -q --no-deps "${PY_TAGS[@]}" -d .gpu/wheels/build setuptools==80.9.0
    wheel=$(ls .gpu/download/onnxruntime_gpu-*.whl)
    (cd .gpu/download && sha256sum "$(basename "$wheel")") > .gpu/parts/SHA256SUMS
    split -b "$PART_SIZE" -d "$wheel" .gpu/parts/ort.part
    bundles=$(python3 -c "from blazepose_onnx.converter import default_model_dir as d; print(d())")
    for variant in lite full heavy; do
      blazepose-convert fetch "$variant" >/dev/null
      blazepose-convert convert "$bundles/pose_landmarker_$variant.task" --weights fp16 \
          --out .gpu/models >/dev/null
    done
    blazepose-convert convert "$bundles/pose_landmarker_full.task" --precision fp16 \
        --out .gpu/models >/dev/null
    for variant in lite heavy; do  # the same detector in every bundle: one copy travels
      ln -sf ../full/detector.onnx ".gpu/models/$variant/detector.onnx"
    done
    du -shL .gpu/parts/* .gpu/wheels; du -sh .gpu/models
    ;;
  plan)
    parts=(.gpu/parts/ort.part*)
    printf '%s .gpu/parts/SHA256SUMS\tbash benchmarks/gpu_wheels.sh receive\n' "${parts[0]}"
    printf '%s\tbash benchmarks/gpu_wheels.sh receive\n' "${parts[@]:1}"
    printf '.gpu/models/heavy\tbash benchmarks/gpu_wheels.sh receive\n'
    printf '.gpu/wheels .gpu/models/lite .gpu/models/full\tbash benchmarks/gpu_wheels.sh check\n'
    ;;
  receive)
    receive
    ;;
  check)
    receive
    install
    read -ra check_args <<< "${GPU_CHECK_ARGS:---provider cuda --deadline 480}"
    PYTHONPATH=$GPU_TMP/site BLAZEPOSE_MODEL_DIR=$GPU_TMP/gpu-models \
        python3 benchmarks/gpu_check.py "${check_args[@]}" --out "${OUT:?the folder that comes back}"
    ;;
  *)
    echo "usage: $0 prepare | plan | receive | check" >&2
    exit 2
    ;;
esac
