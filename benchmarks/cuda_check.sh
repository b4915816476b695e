#!/usr/bin/env bash
# The CUDA checks of sklilaw, in one run on a machine with an NVIDIA GPU (issue 26):
# installs the package beside the CUDA build of torch already there, runs the CUDA-only tests (devices,
# mixed precision with autocast off in the method, no synchronisation within an epoch
# under torch.cuda.set_sync_debug_mode("error")), then the scaling benchmark on the GPU
# (the MLP at 20k, 200k and 2M rows; the CNN at 20k and 200k) and prints its tables.
#
#   bash benchmarks/cuda_check.sh [OUTPUT_FOLDER]     # default: ./cuda_check
#
# It keeps the CUDA build of torch that the machine's python3 holds (set PYTHON to use
# another) and installs sklilaw without touching it. On a machine that cannot reach a
# package index, set WHEELS to a folder of wheels of the other requirements, made where
# one can: pip download skorch fairlearn safetensors tabulate skops hypothesis -d wheels
#
# Targets: LiLAW at most 1.15x its floor on CUDA at 200k rows and more; the tests pass.
# Record the tables in docs/benchmarks.md ("Scaling", on CUDA) with the device's name.
set -euo pipefail
out=${1:-cuda_check}
python=${PYTHON:-python3}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
if [ -n "${WHEELS:-}" ]; then
    "$python" -m pip install -q --no-index --find-links "$WHEELS" \
        skorch fairlearn safetensors tabulate skops hypothesis
fi
"$python" -m pip install -q --no-deps --no-build-isolation -e .
"$python" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name(0), 'CUDA', torch.version.cuda)" | tee "$out/device.txt"
"$python" -m pytest -q -p no:cacheprovider -rs \
    tests/test_training.py::test_no_synchronisation_within_a_cuda_epoch \
    tests/test_mixed_precision.py tests/test_classifier.py::test_cuda tests/test_persistence.py \
    2>&1 | tee "$out/tests.txt"
"$python" benchmarks/scaling.py --device cuda --repeats 3 --output "$out/scaling_mlp.md"
"$python" benchmarks/scaling.py --device cuda --network cnn --features 64 --sizes 20000 200000 \
    --repeats 3 --output "$out/scaling_cnn.md"
