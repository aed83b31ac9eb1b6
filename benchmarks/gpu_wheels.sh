#!/usr/bin/env bash
# Getting ONNX Runtime's CUDA build and the converted models onto a GPU machine that has no
# network and takes at most 64 MiB per call (the device tool); see README "GPU servers".
#
#   bash benchmarks/gpu_wheels.sh prepare        # here: .gpu/ (git-ignored) with the parts
#   bash benchmarks/gpu_wheels.sh install        # there: join, check, install into /tmp/site
#
# prepare writes .gpu/parts/ort.partNN (each below PART_SIZE, one per device call, carried as
# `.gpu/parts/ort.partNN` in consecutive calls while the machine stays warm and keeps /tmp),
# .gpu/wheels/ (tflite, the one pure-Python dependency the GPU image lacks) and .gpu/models/
# (lite/full/heavy with fp16 weight storage, bit-identical results at half the size, plus
# full's fp16-compute pair). install expects the parts gathered in /tmp/ort-parts.
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
    for variant in lite full heavy; do
      blazepose-convert convert "$variant" --weights fp16 --out .gpu/models >/dev/null
    done
    blazepose-convert convert full --precision fp16 --out .gpu/models >/dev/null
    rm -f .gpu/models/*.task
    du -sh .gpu/parts/* .gpu/wheels .gpu/models
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
