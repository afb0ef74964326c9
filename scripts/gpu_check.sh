#!/usr/bin/env bash
# The GPU check of issue 23 in one call on a machine with an NVIDIA GPU: a venv that sees CuPy and PyTorch CUDA
# (installed when missing: from wheels in .whl/ if carried, else from the package index), then
#   1. the GPU test set: tests/gpu on the numpy, fake-device and cupy backends (op and layer parity within 1e-4),
#   2. a training run on the GPU that must reach the CPU run's accuracy (tests/gpu/test_training.py, cupy),
#   3. benchmarks/gpu.py: MLP, CNN, LSTM and a CIFAR ResNet against PyTorch CUDA on the same GPU.
# Everything is printed; logs and the benchmark's JSON go to $OUT (or /tmp/gpu_check). Exit status: the number of
# failed steps. Run from anywhere: `bash scripts/gpu_check.sh` (about 5 minutes on an H100).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
BASE=${PYTHON:-python3}
VENV=/tmp/shendu-gpu-venv
failed=0

step() {  # step NAME SECONDS COMMAND...: run, log to $OUT/NAME.log, count a failure
  local name=$1 limit=$2; shift 2
  echo; echo "=== $name ($(date -u +%T), at most ${limit}s) ==="
  timeout "$limit" "$@" 2>&1 | tee "$OUT/$name.log"
  local rc=${PIPESTATUS[0]}
  echo "=== $name: exit $rc ==="
  [ "$rc" -eq 0 ] || failed=$((failed + 1))
}

echo "=== machine ==="
if ! nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; then
  echo "no NVIDIA GPU here (nvidia-smi failed): the GPU check needs one; the CPU-side tests run with pytest tests/gpu"
  exit 1
fi
export SHENDU_REQUIRE_GPU=1  # the tests' cupy backend fails instead of skipping when CuPy cannot reach the GPU
"$BASE" -m venv --system-site-packages --without-pip "$VENV" && PY=$VENV/bin/python || PY=$BASE
need() {  # need IMPORT_CHECK PACKAGE: install PACKAGE when the check fails
  "$PY" -c "$1" 2>/dev/null && return 0
  echo "installing $2"
  if ls .whl/*.whl >/dev/null 2>&1; then
    "$PY" -m pip install -q --no-index --no-deps --target "$VENV/lib/site-extra" .whl/*.whl
    export PYTHONPATH=$PYTHONPATH:$VENV/lib/site-extra
  else
    "$PY" -m pip install -q "$2" || echo "could not install $2 (no network?): carry its wheels in .whl/"
  fi
}
need "import cupy; cupy.cuda.runtime.getDeviceCount()" "cupy-cuda12x"
need "import torch; assert torch.cuda.is_available()" "torch"
need "import pytest" "pytest"
"$PY" - <<'PY'
import numpy, shendu
from shendu import backend, devices
print("python", __import__("sys").version.split()[0], "numpy", numpy.__version__, "shendu", shendu.__version__)
try:
    import cupy
    print("cupy", cupy.__version__, "CUDA runtime", cupy.cuda.runtime.runtimeGetVersion())
except Exception as err:
    print("cupy: unavailable:", err)
try:
    import torch
    print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())
except Exception as err:
    print("torch: unavailable:", err)
print("shendu sees GPUs:", devices.list_gpus(), [devices.gpu_name(i) for i in range(backend.gpu_count())])
PY

step gpu_tests 300 "$PY" -m pytest tests/gpu -q -rsxX -p no:cacheprovider
step gpu_training 120 "$PY" -m pytest tests/gpu/test_training.py -v -k cupy -p no:cacheprovider
step gpu_benchmark 300 "$PY" benchmarks/gpu.py --json "$OUT/gpu_benchmark.json"

echo; echo "=== done: $failed step(s) failed; logs in $OUT ==="
exit "$failed"
