#!/usr/bin/env bash
# Reproduce the demo weights (slam/weights/slam_demo.*) end to end: phantom data, caches, stage 1,
# stage 1b, the held-out evaluation, the copy into slam/weights. Run from the repository root:
#   bash train/demo.sh [DATA_ROOT (default data)] [extra args for both stages, e.g. --device cpu]
set -euo pipefail
DATA=${1:-data}
shift || true
PY=${PYTHON:-python}
for spec in "train 300 1" "val 40 2" "test 100 3"; do  # three seeds: no study is shared
  set -- $spec "$@"
  [ -f "$DATA/phantom-$1/boxes.csv" ] || $PY -m slam phantom "$DATA/phantom-$1" --n "$2" --seed "$3" --size small
  shift 3
done
for split in train val; do
  [ -f "cache/demo-$split.npz" ] || $PY -m train.cache "$DATA/phantom-$split" "cache/demo-$split.npz" \
    --config train/configs/demo_stage1.yaml
done
$PY -m train.stage1 --config train/configs/demo_stage1.yaml "$@"
# stage 1b: the whole detector on, detection losses x5, 32 sampled anchors / RoIs per image; as run: 26 + 24 epochs
$PY -m train.stage1 --config train/configs/demo_stage1b.yaml "$@"
$PY -m train.stage1 --config train/configs/demo_stage1b.yaml --resume --set epochs=50 "$@"
$PY -m train.export runs/demo/stage1b/best.safetensors slam/weights/slam_demo.safetensors  # float16: < 10 MB
$PY -m train.evaluate --weights slam/weights/slam_demo.safetensors --data "$DATA/phantom-test" --out runs/demo/heldout
echo "demo weights -> slam/weights/slam_demo.safetensors; held-out metrics: runs/demo/heldout/metrics.json"
