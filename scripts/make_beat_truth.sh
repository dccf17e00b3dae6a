#!/usr/bin/env bash
# Builds the beat-truth set (issue 16) from the registries only: scores from
# the music21 wheel on PyPI, rendered with Debian's fluidsynth and the
# TimGM6mb General MIDI soundfont (5 MB; fluid-soundfont-gm is 120 MB), plus
# 40 s excerpts of the Muldjord recordings when scripts/fixtures.sh fetched
# them. Beats, downbeats and meter come from the score and the tempo map it is
# played at (scripts/beat_truth.py). Idempotent: checks the wheel's sha256 and
# each track's audio sha256, renders only what is missing or changed.
#
#   scripts/make_beat_truth.sh            # -> ~/.cache/cinecut/beat_truth
# Layout: <id>/audio.ogg, <id>/truth.json, index.json (id, class, half).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${CINECUT_BEAT_TRUTH:-$HOME/.cache/cinecut/beat_truth}
FIX=${CINECUT_FIXTURES:-$HOME/.cache/cinecut/fixtures}
VENV=$HOME/.cache/cinecut/beat-truth-venv
DL=$OUT/.downloads
WHEEL_SHA=dc3309498c4c95cebdf8d4f20c868deb6b63bce1d929cad4f51a7ccc982987b1
mkdir -p "$OUT" "$DL"

apt_install() { # package...
  if [ "$(id -u)" = 0 ]; then apt-get install -y -q --no-install-recommends "$@" >&2
  else sudo apt-get install -y -q --no-install-recommends "$@" >&2; fi
}
SF2=/usr/share/sounds/sf2/TimGM6mb.sf2
command -v fluidsynth >/dev/null || apt_install fluidsynth
[ -f "$SF2" ] || apt_install timgm6mb-soundfont
[ -f "$SF2" ] || { echo "make_beat_truth: $SF2 missing" >&2; exit 1; }

whl=$DL/music21-10.5.1-py3-none-any.whl
if [ ! -f "$whl" ] || [ "$(sha256sum "$whl" | cut -d' ' -f1)" != $WHEEL_SHA ]; then
  rm -f "$whl"
  python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary :all: music21==10.5.1 -d "$DL"
  [ "$(sha256sum "$whl" | cut -d' ' -f1)" = $WHEEL_SHA ] || { echo "make_beat_truth: music21 wheel sha256 mismatch" >&2; exit 1; }
fi
if ! "$VENV/bin/python" -c "import music21, mido, requests" 2>/dev/null; then
  python3 -m venv "$VENV"
  # music21 without matplotlib (plots only); parsing needs these.
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps "$whl"
  "$VENV/bin/pip" install -q --disable-pip-version-check chardet jsonpickle more_itertools webcolors numpy mido requests
fi
nice -n 15 "$VENV/bin/python" -W ignore scripts/beat_truth.py "$OUT" "$SF2" "$FIX/music"
