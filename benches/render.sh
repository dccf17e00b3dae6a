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
read -r w h < <(python3 -c "import json,sys;r=json.load(open(sys.argv[1]))['render'];print(r['width'],r['height'])" "$m")
# Alternate ours and the reference, three times each, so a change in the
# machine's load hits both; the medians and their ratio are reported.
ours=() plain=()
for k in 1 2 3; do
  rm -f "$work/t.mp4"
  t0=$(date +%s.%N)
  dur=$("$bin" --json render "$m" -o "$work/t.mp4" | python3 -c "import json,sys;print(json.load(sys.stdin)['duration_s'])")
  t1=$(date +%s.%N)
  ffmpeg -hide_banner -loglevel error -nostdin -y -ss 60 -t "$dur" -i "$film" \
    -vf "scale=$w:$h" -c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p \
    -c:a aac -b:a 192k -ar 48000 -ac 2 -movflags +faststart "$work/plain.mp4"
  t2=$(date +%s.%N)
  ours+=("$(echo "$t1 - $t0" | bc)") plain+=("$(echo "$t2 - $t1" | bc)")
done
python3 - "$dur" "$total" "$(cut -d' ' -f1 /proc/loadavg)" "${ours[*]}" "${plain[*]}" <<'PY'
import sys, statistics as st
dur, items, load = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ours = [float(x) for x in sys.argv[4].split()]
plain = [float(x) for x in sys.argv[5].split()]
print(f"trailer {dur:.1f} s, {items} items; load average at the end {load}")
print("cinecut render (sound beside picture, then mux):", " ".join(f"{x:.1f}" for x in ours), "s")
print(f"plain ffmpeg encode of {dur:.1f} s:            ", " ".join(f"{x:.1f}" for x in plain), "s")
print(f"median {st.median(ours):.1f} s vs {st.median(plain):.1f} s: ratio {st.median(ours) / st.median(plain):.2f} (goal <= 1.3)")
PY
