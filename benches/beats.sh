#!/usr/bin/env bash
# Beat-tracking benchmark: ours vs librosa 0.11 beat_track on the four
# Muldjord songs. Creates its own Python venv under ~/.cache/cinecut/.
#   benches/beats.sh          the four Muldjord songs (tracker time only)
#   benches/beats.sh truth    the beat-truth set of scripts/make_beat_truth.sh:
#                             per class and half, file-to-beats speed
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == truth ]]; then
  T="${CINECUT_BEAT_TRUTH:-$HOME/.cache/cinecut/beat_truth}"
  [[ -f "$T/index.json" ]] || scripts/make_beat_truth.sh
  VENV="$HOME/.cache/cinecut/beats-venv"
  [[ -x "$VENV/bin/python" ]] || { python3 -m venv "$VENV"; "$VENV/bin/pip" install -q "librosa==0.11.0" mir_eval; }
  mapfile -t files < <("$VENV/bin/python" -c "import json,sys;[print(sys.argv[1]+'/'+i['id']+'/audio.ogg') for i in json.load(open(sys.argv[1]+'/index.json'))]" "$T")
  out="${CARGO_TARGET_DIR:-target}/beats_truth_ours.jsonl"
  echo "load average before ours: $(cut -d' ' -f1-3 /proc/loadavg)"
  cargo bench -q --bench beats -- "${files[@]}" > "$out"
  exec "$VENV/bin/python" benches/beats_truth.py "$T" "$out"
fi
FIX="${CINECUT_FIXTURES:-$HOME/.cache/cinecut/fixtures}"
VENV="$HOME/.cache/cinecut/beats-venv"
files=()
for s in Armygeddon Chaos_God Internal_Degeneration Mutilated_Mime; do
  f="$FIX/music/$s/mix.ogg"
  [[ -f "$f" ]] || { echo "missing fixture $f (see shared/media/README.md)" >&2; exit 1; }
  files+=("$f")
done
if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c "import librosa, mir_eval" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "librosa==0.11.0" mir_eval
fi
echo "load average before ours: $(cut -d' ' -f1-3 /proc/loadavg)"
cargo bench -q --bench beats -- "${files[@]}" > "${CARGO_TARGET_DIR:-target}/beats_ours.jsonl"
"$VENV/bin/python" benches/beats.py < "${CARGO_TARGET_DIR:-target}/beats_ours.jsonl"
