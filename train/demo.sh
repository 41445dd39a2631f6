#!/usr/bin/env bash
# Reproduce the shipped weights from scratch on the CPU: slam/weights/baseline.* (the per-slice baseline)
# and slam/weights/slam_default.* (SLAM from it, the default of `slam predict` and the app).
# Phantom evaluation sets, the slice cache, baseline training, SLAM's slice attention on the frozen
# extractor, float16 export, operating point on validation, held-out evaluation, model cards.
# Run from the repository root:   bash train/demo.sh [DATA_ROOT (default data)]
# Resumable: existing data sets and cache shards are kept; training continues with --resume.
set -euo pipefail
DATA=${1:-data}
PY=${PYTHON:-python}
NICE=${NICE:-nice -n 10}
for spec in "val 40 21 train" "test 30 23 train" "heldout 30 29 heldout"; do  # seeds never used for training
  set -- $spec
  [ -f "$DATA/$1/boxes.csv" ] || $PY -m slam phantom "$DATA/$1" --n "$2" --seed "$3" --style "$4"
done
# The slice cache first: on 2 cores a 2-thread trainer beside the generator processes crawls (torch's threads
# wait on each other: 13 CPU-minutes went by without finishing its first 200 steps, which take ~2 alone).
# With cores to spare, OVERLAP=1 starts training after 4 shards; the trainer takes new shards at each epoch.
$NICE $PY -m train.slices cache/val-slices --n 40 --seed 31 --shard 20
if [ "${OVERLAP:-0}" = 1 ]; then
  $NICE $PY -m train.slices cache/slices --n 1200 --seed 11 --shard 50 --workers 2 &
  until [ -f cache/slices/shard-00003.npz ]; do sleep 10; done
else
  $NICE $PY -m train.slices cache/slices --n 1200 --seed 11 --shard 50 --workers 2
fi
$NICE $PY -m train.baseline --config train/configs/baseline.yaml --resume
wait
$NICE $PY -m train.slam_init --baseline runs/baseline/last.safetensors --out runs/slam --head-steps "${HEADS:-400}" \
  --max-studies 600                                                  # --slice-candidates 50 (the default)
$PY -m train.export runs/baseline/last.safetensors slam/weights/baseline.safetensors      # float16: < 10 MB
$PY -m train.export runs/slam/best.safetensors slam/weights/slam_default.safetensors
for name in baseline slam_default; do
  W=slam/weights/$name.safetensors
  $NICE $PY -m train.evaluate --weights "$W" --data "$DATA/val" --score-threshold 0 --write-operating-point \
    --out "runs/eval/$name-val" > /dev/null
  for split in test heldout; do
    $NICE $PY -m train.evaluate --weights "$W" --data "$DATA/$split" --score-threshold 0 --out "runs/eval/$name-$split" > /dev/null
  done
done
$PY -m train.card slam/weights/baseline.safetensors --curve runs/baseline/metrics.csv \
  --eval in-style=runs/eval/baseline-test --eval held-out-style=runs/eval/baseline-heldout
$PY -m train.card slam/weights/slam_default.safetensors --curve runs/baseline/metrics.csv --attention runs/slam/attention.json \
  --eval in-style=runs/eval/slam_default-test --eval held-out-style=runs/eval/slam_default-heldout
echo "weights + cards -> slam/weights/{baseline,slam_default}.*; metrics: runs/eval/*/metrics.json"
