#!/usr/bin/env bash
# One-command GPU recipe: phantom data made by WORKERS processes, the per-slice baseline (ResNet-18,
# 27 sampled slices at 448 x 384 for SLAM) trained with the full schedule, SLAM from it (attention on
# the frozen extractor), the operating point on validation, held-out evaluation, float16 export.
# Aimed at <= 10 min on one modern GPU with 16 cores. Every size is an environment variable, so the
# same script runs tiny on a CPU (tests/test_train.py::test_gpu_recipe_runs_tiny_on_the_cpu):
#   bash train/gpu.sh                       # the full recipe (outputs in $OUT, default runs/gpu)
#   TINY=1 DEVICE=cpu OUT=/tmp/g bash train/gpu.sh
set -euo pipefail
PY=${PYTHON:-python}
OUT=${OUT:-runs/gpu}
DEVICE=${DEVICE:-auto}
WORKERS=${WORKERS:-16}
if [ "${TINY:-0}" = 1 ]; then
  N_TRAIN=4 N_VALS=2 N_EVAL=4 SHARD=2 SLICES=6 H=96 W=80 CROP="[64, 64]" EPOCHS=1 STEPS=2 BATCH=4 ATT=5 HEADS=2
  MODEL="--set model.backbone=mobilenet_v3_small --set model.fpn_channels=16"
else
  N_TRAIN=${N_TRAIN:-4000} N_VALS=${N_VALS:-80} N_EVAL=${N_EVAL:-100} SHARD=${SHARD:-50} SLICES=${SLICES:-27}
  H=${H:-448} W=${W:-384} CROP=${CROP:-"[256, 256]"} EPOCHS=${EPOCHS:-60} STEPS=${STEPS:-100} BATCH=${BATCH:-32}
  ATT=${ATT:-400} HEADS=${HEADS:-1500} MODEL=${MODEL:-}
fi
DATA=$OUT/data CACHE=$OUT/cache
mkdir -p "$OUT"
# evaluation sets (seeds never used for training) in the background while the training cache is made
for spec in "val $N_EVAL 21 train" "test $N_EVAL 23 train" "heldout $N_EVAL 29 heldout"; do
  set -- $spec
  [ -f "$DATA/$1/boxes.csv" ] || $PY -m slam phantom "$DATA/$1" --n "$2" --seed "$3" --style "$4" > "$OUT/gen-$1.log" &
done
$PY -m train.slices "$CACHE/slices" --n "$N_TRAIN" --seed 11 --shard "$SHARD" --workers "$WORKERS" \
  --input-size "$H" "$W" --num-slices "$SLICES"
$PY -m train.slices "$CACHE/val-slices" --n "$N_VALS" --seed 31 --shard "$SHARD" --workers "$WORKERS" \
  --input-size "$H" "$W" --num-slices "$SLICES"
wait
$PY -m train.baseline --config train/configs/baseline_gpu.yaml --device "$DEVICE" --out "$OUT/baseline" $MODEL \
  --set "model.input_size=[$H, $W]" --set "model.num_slices=$SLICES" --set "data.train=$CACHE/slices" \
  --set "data.val=$CACHE/val-slices" --set "data.crop=$CROP" --set "epochs=$EPOCHS" \
  --set "data.steps_per_epoch=$STEPS" --set "data.batch_size=$BATCH"
$PY -m train.slam_init --baseline "$OUT/baseline/best.safetensors" --train "$CACHE/slices" \
  --val "$CACHE/val-slices" --out "$OUT/slam" --epochs "$ATT" --head-steps "$HEADS" --device "$DEVICE"
for name in baseline slam; do
  $PY -m train.export "$OUT/$name/best.safetensors" "$OUT/export/$name.safetensors"
  $PY -m train.evaluate --weights "$OUT/export/$name.safetensors" --data "$DATA/val" --out "$OUT/eval/$name-val" \
    --score-threshold 0 --write-operating-point > /dev/null
  for split in test heldout; do
    $PY -m train.evaluate --weights "$OUT/export/$name.safetensors" --data "$DATA/$split" \
      --out "$OUT/eval/$name-$split" --score-threshold 0 > /dev/null
  done
done
echo "weights: $OUT/export/{baseline,slam}.safetensors; metrics: $OUT/eval/*/metrics.json"
