#!/usr/bin/env bash
# The behaviour gate for refactors: records what CineCut makes of four real
# films, or compares a new run against such a record.
#
#   scripts/gate.sh record DIR    run the cases, keep their outputs in DIR
#   scripts/gate.sh compare DIR   run them again and diff against DIR
#
# Cases: the demo (Big Buck Bunny, adventure), the TED clip with its SRT
# (drama), and two truth films of scripts/make_shot_truth.sh (mixed, action;
# holdout, thriller). Kept per case: TRAILER_MANIFEST.json (cinecut_version
# dropped), the data of analysis.json / dialogue.json / structure.json /
# storyboard.json / music.json (their fingerprints dropped: a refactor may
# derive them differently), `cinecut check --json`, the stage list of
# `--json`, and the seconds of a rerun after success (which must skip every
# stage). The binary is $CINECUT_BIN, else the release build in
# $CARGO_TARGET_DIR.
set -euo pipefail
mode=${1:-}
dir=${2:-}
case "$mode" in record|compare) ;; *) echo "usage: $0 record|compare DIR" >&2; exit 2 ;; esac
[ -n "$dir" ] || { echo "usage: $0 record|compare DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
T=${CARGO_TARGET_DIR:-$HOME/.cache/cinecut/target}
BIN=${CINECUT_BIN:-$T/release/cinecut}
FIX=${CINECUT_FIXTURES:-$HOME/.cache/cinecut/fixtures}
TRUTH=${CINECUT_SHOT_TRUTH:-$HOME/.cache/cinecut/shot_truth}
[ -x "$BIN" ] || { echo "gate: no binary at $BIN (cargo build --release)" >&2; exit 1; }
for f in mixed holdout; do
  [ -f "$TRUTH/$f.mp4" ] || "$here/scripts/make_shot_truth.sh" "$TRUTH" "$f" >/dev/null
done

# A fixed folder, so the paths the manifests hold are the same in every run
# (and written relative to it in the record).
out=${CINECUT_GATE_WORK:-$HOME/.cache/cinecut/gate-run}
rm -rf "$out"
mkdir -p "$out"
run_case() { # name film vibe [extra args]
  local name=$1 film=$2 vibe=$3
  shift 3
  local c="$out/$name"
  mkdir -p "$c/run"
  (cd "$c/run" && NO_COLOR=1 "$BIN" --json trailer "$film" --vibe "$vibe" -o "$c/run/t.mp4" "$@" >"$c/first.json")
  local t0 t1
  t0=$(date +%s.%N)
  (cd "$c/run" && NO_COLOR=1 "$BIN" --json trailer "$film" --vibe "$vibe" -o "$c/run/t.mp4" "$@" >"$c/rerun.json")
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1-$t0:.2f}')" >"$c/rerun_seconds"
  (cd "$c/run" && NO_COLOR=1 "$BIN" --json check "$c/run/t.mp4" --manifest "$(ls -d "$c"/run/*.cinecut)/TRAILER_MANIFEST.json" >"$c/check.json") || true
}
demo_case() {
  local c="$out/demo"
  mkdir -p "$c/run"
  (cd "$c/run" && NO_COLOR=1 "$BIN" --json demo -o "$c/run/t.mp4" >"$c/first.json")
  local t0 t1
  t0=$(date +%s.%N)
  (cd "$c/run" && NO_COLOR=1 "$BIN" --json demo -o "$c/run/t.mp4" >"$c/rerun.json")
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1-$t0:.2f}')" >"$c/rerun_seconds"
  (cd "$c/run" && NO_COLOR=1 "$BIN" --json check "$c/run/t.mp4" --manifest "$c/run/bbb.cinecut/TRAILER_MANIFEST.json" >"$c/check.json") || true
}

demo_case
run_case ted "$FIX/ted/test.mp4" drama --subs "$FIX/ted/test.srt"
run_case mixed "$TRUTH/mixed.mp4" action
run_case holdout "$TRUTH/holdout.mp4" thriller

# Normalise into DIR-shaped records.
rec="$out/record"
python3 - "$out" "$rec" <<'PY'
import json, os, sys, glob
src, rec = sys.argv[1], sys.argv[2]
_load = json.load
def load(f):
    # The gate's own folder may differ between runs (CINECUT_GATE_WORK):
    # paths under it are kept relative to it.
    return json.loads(f.read().replace(os.path.realpath(src), "<gate>").replace(src, "<gate>"))
json.load = load
for case in ("demo", "ted", "mixed", "holdout"):
    c = os.path.join(src, case)
    d = os.path.join(rec, case)
    os.makedirs(d, exist_ok=True)
    work = glob.glob(os.path.join(c, "run", "*.cinecut"))[0]
    m = json.load(open(os.path.join(work, "TRAILER_MANIFEST.json")))
    m.pop("cinecut_version", None)
    json.dump(m, open(os.path.join(d, "manifest.json"), "w"), indent=1, sort_keys=True)
    for a in ("analysis", "dialogue", "structure", "storyboard", "music"):
        env = json.load(open(os.path.join(work, a + ".json")))
        json.dump(env["data"], open(os.path.join(d, a + ".json"), "w"), indent=1, sort_keys=True)
    chk = json.load(open(os.path.join(c, "check.json")))
    json.dump(chk, open(os.path.join(d, "check.json"), "w"), indent=1, sort_keys=True)
    for run in ("first", "rerun"):
        s = json.load(open(os.path.join(c, run + ".json")))
        stages = [(x["name"], x["status"]) for x in s["stages"]]
        keep = {k: s[k] for k in ("clips", "duration_s", "loudness_lufs", "true_peak_db", "warnings")}
        keep["stages"] = stages
        json.dump(keep, open(os.path.join(d, run + ".json"), "w"), indent=1, sort_keys=True)
    open(os.path.join(d, "rerun_seconds.txt"), "w").write(open(os.path.join(c, "rerun_seconds")).read())
PY

if [ "$mode" = record ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  cp -r "$rec"/. "$dir"/
  echo "gate: recorded into $dir"
  for c in demo ted mixed holdout; do echo "  $c: rerun $(cat "$dir/$c/rerun_seconds.txt") s"; done
  exit 0
fi
status=0
for c in demo ted mixed holdout; do
  for f in manifest analysis dialogue structure storyboard music check first rerun; do
    if ! diff -q "$dir/$c/$f.json" "$rec/$c/$f.json" >/dev/null; then
      echo "gate: $c/$f.json DIFFERS"
      diff "$dir/$c/$f.json" "$rec/$c/$f.json" | head -20 || true
      status=1
    fi
  done
  secs=$(cat "$rec/$c/rerun_seconds.txt")
  echo "gate: $c rerun ${secs} s (recorded $(cat "$dir/$c/rerun_seconds.txt") s)"
  python3 -c "import sys; sys.exit(0 if $secs <= 2.0 else 1)" || { echo "gate: $c rerun over 2 s"; status=1; }
done
[ $status = 0 ] && echo "gate: identical"
exit $status
