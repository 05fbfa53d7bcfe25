#!/usr/bin/env bash
# Train the reference network on one GPU for a fixed wall-clock budget, from a training pack, and print its speed.
#
# Made for a rented or lent GPU machine that has python3 with torch, numpy, scipy, safetensors, pyyaml and pillow
# but none of humandepth's rendering dependencies: the training code and the pack reader import nothing else,
# so a copy of this repository and a pack (`humandepth baselines pack reference ...`) are all it needs.
#
#   scripts/gpu_train_reference.sh PACK OUT [BUDGET_S] [CONFIG] [EXTRA TRAIN OPTIONS...]
#
# 1. prints the GPU and the network's training img/s and inference ms per image (benchmarks/bench_reference.py);
# 2. trains CONFIG (default paper) with bfloat16 autocast and torch.compile, fitted to BUDGET_S seconds (default
#    420) of the whole run, writing OUT/ with the weights in chunks of at most 15 MiB (model.safetensors.000, ...),
#    config.json (the fitted step counts and the exact command) and log.csv;
# 3. drops OUT/train_state.pt unless KEEP_TRAIN_STATE=1 (the optimiser state is as large as the weights and is
#    only needed to resume).
set -euo pipefail
if [ $# -lt 2 ]; then
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
PACK=$1
OUT=$2
BUDGET=${3:-420}
CONFIG=${4:-paper}
shift $(( $# < 4 ? $# : 4 ))
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
PY=${PYTHON:-python3}
WORKERS=${WORKERS:-$(( $(nproc) > 2 ? $(nproc) - 2 : 1 ))}
BATCH=${BATCH:-32}

"$PY" - <<'PYEOF'
import torch
if not torch.cuda.is_available():
    raise SystemExit("gpu_train_reference.sh: torch sees no CUDA device")
p = torch.cuda.get_device_properties(0)
print(f"GPU: {p.name}, {p.total_memory / 2**30:.0f} GiB; torch {torch.__version__}, CUDA {torch.version.cuda}")
PYEOF
"$PY" "$ROOT/benchmarks/bench_reference.py" --configs "$CONFIG" --device cuda --batch-size "$BATCH" --steps 10 --reps 20
"$PY" -m humandepth baselines train reference --data "$PACK" --config "$CONFIG" --out "$OUT" --device cuda \
  --compile --budget-s "$BUDGET" --batch-size "$BATCH" --workers "$WORKERS" --chunk-mb 15 --log-every 50 \
  --checkpoint-every 1000000 "$@"
if [ "${KEEP_TRAIN_STATE:-0}" != 1 ]; then rm -f "$OUT/train_state.pt"; fi
ls -l "$OUT"
