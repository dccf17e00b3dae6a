#!/usr/bin/env bash
# Render benchmark: `cinecut render` of a real trailer manifest against plain
# ffmpeg encodes at the same settings (libx264 veryfast CRF 18, AAC 192k,
# same size), measured in the same run, alternating, three times each:
#  - same content (the goal's reference): the trailer's own source spans,
#    joined by ffmpeg's concat demuxer with no filters and encoded plainly.
#    It measures what the render adds (frame-exact cuts, grade, fades, cards,
#    the four-stem mix and loudness) over encoding the same footage. Its
#    length is printed: the demuxer starts each span at a key frame, so it
#    can differ a little from the trailer's.
#  - one stretch of the film (from 60 s) as long as the trailer. Encoding
#    cost depends on the footage: on Big Buck Bunny an 88 s stretch from
#    60 s encodes in 13.8 s, from 500 s in 18.2 s, so this ratio says as
#    much about where the stretch lies as about the render.
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
python3 - "$m" "$film" > "$work/clips.ffconcat" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print("ffconcat version 1.0")
for it in m["timeline"]:
    if "source_in_s" in it:
        print("file '%s'" % sys.argv[2].replace("'", "'\\''"))
        print("inpoint %.6f" % it["source_in_s"])
        print("outpoint %.6f" % it["source_out_s"])
PY
enc=(-c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p -c:a aac -b:a 192k -ar 48000 -ac 2 -movflags +faststart)
ours=() same=() stretch=()
for k in 1 2 3; do
  rm -f "$work/t.mp4"
  t0=$(date +%s.%N)
  dur=$("$bin" --json render "$m" -o "$work/t.mp4" | python3 -c "import json,sys;print(json.load(sys.stdin)['duration_s'])")
  t1=$(date +%s.%N)
  ffmpeg -hide_banner -loglevel error -nostdin -y -f concat -safe 0 -i "$work/clips.ffconcat" \
    -t "$dur" -vf "scale=$w:$h" "${enc[@]}" "$work/same.mp4"
  t2=$(date +%s.%N)
  ffmpeg -hide_banner -loglevel error -nostdin -y -ss 60 -t "$dur" -i "$film" \
    -vf "scale=$w:$h" "${enc[@]}" "$work/plain.mp4"
  t3=$(date +%s.%N)
  ours+=("$(echo "$t1 - $t0" | bc)") same+=("$(echo "$t2 - $t1" | bc)") stretch+=("$(echo "$t3 - $t2" | bc)")
done
same_len=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$work/same.mp4")
python3 - "$dur" "$total" "$(cut -d' ' -f1 /proc/loadavg)" "${ours[*]}" "${same[*]}" "${stretch[*]}" "$same_len" <<'PY'
import sys, statistics as st
dur, items, load = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ours, same, stretch = ([float(x) for x in a.split()] for a in sys.argv[4:7])
same_len = float(sys.argv[7])
print(f"trailer {dur:.1f} s, {items} items; load average at the end {load}")
print("cinecut render (sound beside picture, then mux):  ", " ".join(f"{x:.1f}" for x in ours), "s")
print(f"plain encode, same content ({same_len:.1f} s):        ", " ".join(f"{x:.1f}" for x in same), "s")
print(f"plain encode, the film from 60 s ({dur:.1f} s):     ", " ".join(f"{x:.1f}" for x in stretch), "s")
o = st.median(ours)
print(f"ratio to the same content: {o / st.median(same):.2f} (goal <= 1.3)")
print(f"ratio to one stretch of the film: {o / st.median(stretch):.2f}")
PY
