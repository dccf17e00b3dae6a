#!/usr/bin/env bash
# Beat-tracking benchmark: ours vs librosa 0.11 beat_track on the four
# Muldjord songs. Creates its own Python venv under ~/.cache/cinecut/.
set -euo pipefail
cd "$(dirname "$0")/.."
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
