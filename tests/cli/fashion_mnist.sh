#!/usr/bin/env bash
# fashion_mnist.sh — the real-data target: PCA-50, lse-class:32, eps 1, Adam 3e-3,
# batch 256, 5 epochs must reach >= 86% test accuracy on Fashion-MNIST's official test split.
source "$3/cli/common.inc"
if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  echo "SKIP: dataset-fashion-mnist is not installed (scripts/setup installs it)"; exit 0
fi
"$HJDL" fit --dataset fashion-mnist --pca 50 --arch lse-class:32 --eps 1 --lr 3e-3 --batch 256 --epochs 5 \
  --out "$TMP/fm.hjm" --quiet > "$TMP/fm.txt" && pass || fail "fit fashion-mnist"
cat "$TMP/fm.txt"
awk '/^test accuracy/ { exit !($3 >= 0.86) }' "$TMP/fm.txt" && pass || fail "test accuracy below 0.86"
finish
