#!/usr/bin/env bash
# Render benchmark: `cinecut render` of a real trailer manifest against a
# plain ffmpeg encode of the same length at the same settings (libx264
# veryfast CRF 18, AAC 192k, same size) measured in the same run.
#   benches/render.sh [FILM] [VIBE] [LENGTH]
set -euo pipefail
cd "$(dirname "$0")/.."
F=${CINECUT_FIXTURES:-$HOME/.cache/cinecut/fixtures}
film=${1:-$F/bbb.mp4}
vibe=${2:-action}
len=${3:-90}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build -q --release
bin=$CARGO_TARGET_DIR/release/cinecut
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" --quiet trailer "$film" --vibe "$vibe" --length "$len" -o "$work/t.mp4" --workdir "$work/w" --review
m="$work/w/TRAILER_MANIFEST.json"
total=$(python3 -c "import json,sys;m=json.load(open(sys.argv[1]));print(sum(1 for _ in m['timeline']))" "$m")
t0=$(date +%s.%N)
dur=$("$bin" --json render "$m" -o "$work/t.mp4" | python3 -c "import json,sys;print(json.load(sys.stdin)['duration_s'])")
t1=$(date +%s.%N)
read -r w h < <(python3 -c "import json,sys;r=json.load(open(sys.argv[1]))['render'];print(r['width'],r['height'])" "$m")
ffmpeg -hide_banner -loglevel error -nostdin -y -ss 60 -t "$dur" -i "$film" \
  -vf "scale=$w:$h" -c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p \
  -c:a aac -b:a 192k -ar 48000 -ac 2 -movflags +faststart "$work/plain.mp4"
t2=$(date +%s.%N)
python3 - "$t0" "$t1" "$t2" "$dur" "$total" <<'PY'
import sys
t0, t1, t2, dur, items = map(float, sys.argv[1:])
ours, plain = t1 - t0, t2 - t1
print(f"trailer {dur:.1f} s, {int(items)} items")
print(f"cinecut render (sound mix + levelling + picture pass): {ours:.1f} s")
print(f"plain ffmpeg encode of {dur:.1f} s:            {plain:.1f} s")
print(f"ratio: {ours / plain:.2f} (goal <= 1.3)")
PY
