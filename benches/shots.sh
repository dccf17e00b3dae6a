#!/usr/bin/env bash
# Shot-detection benchmark: on the same files, in one run, print our
# precision/recall/F1 and time, PySceneDetect 0.7's (detect-adaptive and
# detect-content at defaults), and a bare `ffmpeg -i FILM -an -f null -`
# decode as the floor, with the ratios. Times are wall seconds and CPU
# seconds (user+sys); on a shared machine the CPU ratio is the steadier one.
#
# Films: the four original truth films, five robustness films (strobe,
# dark, letterbox, subtitles, motion) and `holdout`, a mix of every
# difficulty that was not looked at while the detector was tuned.
#
# usage: benches/shots.sh            (truth films + Big Buck Bunny)
# env:   SHOT_TRUTH_DIR (default ~/.cache/cinecut/shot_truth; built if missing)
#        CINECUT_FIXTURES, SKIP_BBB=1 to leave out the full film
set -euo pipefail
cd "$(dirname "$0")/.."
TRUTH="${SHOT_TRUTH_DIR:-$HOME/.cache/cinecut/shot_truth}"
FIX="${CINECUT_FIXTURES:-$HOME/.cache/cinecut/fixtures}"
VENV="$HOME/.cache/cinecut/scenedetect-venv"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

FILMS=(cuts_flashes gradual mixed tiny strobe dark letterbox subtitles motion holdout)
missing=()
for n in "${FILMS[@]}"; do [[ -f "$TRUTH/$n.truth.json" ]] || missing+=("$n"); done
[[ ${#missing[@]} -eq 0 ]] || scripts/make_shot_truth.sh "$TRUTH" "${missing[@]}"
if [[ ! -x "$VENV/bin/scenedetect" ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "scenedetect==0.7.*" opencv-python-headless
fi
cargo build -q --release --example shotbench
BIN=${CARGO_TARGET_DIR:-target}/release/examples/shotbench

# tm OUTFILE CMD...: run, stdout to OUTFILE; echo "wall cpu"
tm() {
  local out=$1; shift
  /usr/bin/time -f "%e %U %S" -o "$WORK/time" "$@" >"$out" 2>"$WORK/err" ||
    { echo "failed: $* ($(tail -2 "$WORK/err"))" >&2; return 1; }
  awk '{printf "%.2f %.2f", $1, $2 + $3}' "$WORK/time"
}
f1() { sed -E 's/.*"f1":([0-9.]+).*/\1/' <<<"$1" | awk '{printf "%.3f", $1}'; }
field() { sed -E "s/.*\"$2\":([0-9]+).*/\\1/" <<<"$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "-" }'; }

printf '%-13s | %-34s | %-17s | %-17s | %-11s | %s\n' film \
  "ours F1 (P/R, flashFP, exact) wall/cpu" "sd-adaptive F1 w" "sd-content F1 w" \
  "ffmpeg w/cpu" "ours/ffmpeg wall cpu; sd-best/ours wall; cuts on skipped frames (re-decoded)"
for name in "${FILMS[@]}"; do
  truth="$TRUTH/$name.truth.json"
  film="$TRUTH/$name.mp4"
  ff=$(tm /dev/null ffmpeg -nostdin -i "$film" -an -f null -)
  ours=$(tm "$WORK/ours.json" "$BIN" analyse "$film")
  so=$("$BIN" score "$truth" ours "$WORK/ours.json")
  declare -A sdf=() sdt=()
  for det in detect-adaptive detect-content; do
    sdt[$det]=$(tm /dev/null "$VENV/bin/scenedetect" -q -i "$film" -o "$WORK" "$det" list-scenes -f "$det.csv")
    sdf[$det]=$(f1 "$("$BIN" score "$truth" csv "$WORK/$det.csv")")
  done
  best=$(awk -v a="${sdt[detect-adaptive]% *}" -v b="${sdt[detect-content]% *}" 'BEGIN{print (a<b)?a:b}')
  p=$(sed -E 's/.*"precision":([0-9.]+).*/\1/' <<<"$so" | awk '{printf "%.2f", $1}')
  r=$(sed -E 's/.*"recall":([0-9.]+).*/\1/' <<<"$so" | awk '{printf "%.2f", $1}')
  printf '%-13s | %-5s (%s/%s, %s, %s/%s) %5s/%-5s | %-5s %9s | %-5s %9s | %5s/%-5s | %s %s; %s; %s (%s)\n' "$name" \
    "$(f1 "$so")" "$p" "$r" "$(field "$so" flash_fp)" "$(field "$so" exact_cuts)" "$(field "$so" matched_cuts)" \
    ${ours} "${sdf[detect-adaptive]}" "${sdt[detect-adaptive]% *}" "${sdf[detect-content]}" "${sdt[detect-content]% *}" \
    ${ff} "$(ratio "${ours% *}" "${ff% *}")" "$(ratio "${ours#* }" "${ff#* }")" "$(ratio "$best" "${ours% *}")" \
    "$(field "$(cat "$WORK/ours.json")" refined_cuts)" "$(field "$(cat "$WORK/ours.json")" redecoded_cuts)"
done

# Fixed costs that weigh on short films, for comparison: an ffprobe (the
# analysis now probes in process), an ffmpeg that starts and decodes a
# single frame, and on `tiny` the decode of its reference frames alone (the
# floor of the main pass, which a 5.5 s film cannot split).
tiny="$TRUTH/tiny.mp4"
fp=$(tm /dev/null ffprobe -v error -print_format json -show_format -show_streams "$tiny")
f1f=$(tm /dev/null ffmpeg -nostdin -i "$tiny" -frames:v 1 -an -f null -)
tnr=$(tm /dev/null ffmpeg -nostdin -skip_loop_filter all -skip_frame noref -i "$tiny" -an -f null -)
echo
echo "fixed costs (wall/cpu s): ffprobe ${fp% *}/${fp#* }, ffmpeg start + 1 frame ${f1f% *}/${f1f#* }," \
  "tiny's reference frames alone ${tnr% *}/${tnr#* }"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"

if [[ -z "${SKIP_BBB:-}" ]]; then
  bbb="$FIX/bbb.mp4"
  [[ -f "$bbb" ]] || { echo "missing fixture: $bbb" >&2; exit 1; }
  ff=$(tm /dev/null ffmpeg -nostdin -i "$bbb" -an -f null -)
  ours=$(tm "$WORK/bbb.json" "$BIN" analyse "$bbb")
  ffs=$(tm /dev/null ffmpeg -nostdin -skip_loop_filter all -skip_frame noref -i "$bbb" -an -f null -)
  n=$(grep -o '"kind":"' "$WORK/bbb.json" | wc -l)
  echo
  echo "bbb.mp4 (596 s, 720p24): bare decode ${ff% *} s wall / ${ff#* } s cpu;" \
    "analysis ${ours% *} s / ${ours#* } s ($n boundaries, $(field "$(cat "$WORK/bbb.json")" refined_cuts) cuts on skipped frames, $(field "$(cat "$WORK/bbb.json")" redecoded_cuts) re-decoded);" \
    "ratio wall $(ratio "${ours% *}" "${ff% *}"), cpu $(ratio "${ours#* }" "${ff#* }");" \
    "decode with skip_loop_filter+noref alone: cpu $(ratio "${ffs#* }" "${ff#* }")"
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
fi

# Memory on a 2-hour film: Big Buck Bunny looped by stream copy (no
# re-encode) to 2 hours of 720p24; peak resident memory of the analysis.
if [[ -z "${SKIP_BBB:-}" && -z "${SKIP_LONG:-}" ]]; then
  long="$WORK/two_hours.mp4"
  ffmpeg -nostdin -v error -stream_loop 12 -i "$FIX/bbb.mp4" -map 0 -c copy -t 7200 "$long"
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$BIN" analyse "$long" >"$WORK/long.json" 2>"$WORK/err" ||
    { echo "2-hour analysis failed: $(tail -2 "$WORK/err")" >&2; exit 1; }
  read -r wall user sys kb <"$WORK/time"
  echo
  echo "2-hour film (bbb looped, 7200 s 720p24): analysis ${wall} s wall / $(awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.1f", u + s}') s cpu," \
    "peak memory $((kb / 1024)) MB (goal <= 300 MB); $(grep -o '"kind":"' "$WORK/long.json" | wc -l) boundaries"
fi
