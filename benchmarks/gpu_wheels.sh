#!/usr/bin/env bash
# Getting ONNX Runtime's CUDA build and the converted models onto a GPU machine that has no
# network and takes at most 64 MiB per call (the device tool); see README "GPU servers".
#
#   bash benchmarks/gpu_wheels.sh prepare        # here: .gpu/ (git-ignored) with the parts
#   bash benchmarks/gpu_wheels.sh install        # there: join, check, install into /tmp/site
#
# prepare writes .gpu/parts/ort.partNN (each below PART_SIZE), .gpu/wheels/ (tflite, the one
# pure-Python dependency the GPU image lacks) and .gpu/models/ (lite/full/heavy with fp16 weight
# storage, bit-identical results at half the size, one shared detector, plus full's fp16-compute
# pair: 53 MiB). Each call also carries the working tree (14 MiB), so seven calls, back to back
# while the machine stays warm and keeps /tmp:
#   1-5: carry [".gpu/parts/ort.part0N"] (the first with ".gpu/parts/SHA256SUMS" too):
#        mkdir -p /tmp/ort-parts && cp .gpu/parts/* /tmp/ort-parts/
#   6:   carry [".gpu/models/heavy"]: mkdir -p /tmp/gpu-models && cp -r .gpu/models/heavy /tmp/gpu-models/
#   7:   carry [".gpu/wheels", ".gpu/models/lite", ".gpu/models/full"]:
#        cp -r .gpu/models/lite .gpu/models/full /tmp/gpu-models/ && bash benchmarks/gpu_wheels.sh install &&
#        PYTHONPATH=/tmp/site:$PWD BLAZEPOSE_MODEL_DIR=/tmp/gpu-models \
#        python3 benchmarks/gpu_check.py --provider cuda --out $OUT --deadline 480
set -euo pipefail
cd "$(dirname "$0")/.."
ORT_GPU=${ORT_GPU:-onnxruntime-gpu==1.31.1}
PART_SIZE=${PART_SIZE:-50m}
PY_TAGS=(--python-version 3.12 --implementation cp --only-binary=:all:
         --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
         --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)

case "${1:-}" in
  prepare)
    grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
    rm -rf .gpu && mkdir -p .gpu/download .gpu/parts .gpu/wheels
    python3 -m pip download -q --no-deps "${PY_TAGS[@]}" -d .gpu/download "$ORT_GPU"
    python3 -m pip download -q --no-deps "${PY_TAGS[@]}" -d .gpu/wheels tflite==2.18.0
    wheel=$(ls .gpu/download/onnxruntime_gpu-*.whl)
    (cd .gpu/download && sha256sum "$(basename "$wheel")") > .gpu/parts/SHA256SUMS
    split -b "$PART_SIZE" -d "$wheel" .gpu/parts/ort.part
    bundles=$(python3 -c "from blazepose_onnx.converter.paths import default_model_dir as d; print(d())")
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
  install)
    parts=${PARTS_DIR:-/tmp/ort-parts}
    wheel="$parts/$(awk '{print $2}' "$parts/SHA256SUMS")"
    cat "$parts"/ort.part* > "$wheel"
    (cd "$parts" && sha256sum -c SHA256SUMS)
    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site \
        "$wheel" .gpu/wheels/*.whl
    echo "installed into /tmp/site: export PYTHONPATH=/tmp/site:\$PWD"
    ;;
  *)
    echo "usage: $0 prepare|install" >&2
    exit 2
    ;;
esac
