#!/usr/bin/env bash
# One-stop set-up for a fresh Debian machine (run as root):
#   ./setup.sh demo   installs what CineCut needs, builds it, makes the Big Buck Bunny trailer
#   ./setup.sh test   installs what the tests need (media and models too), runs the tests
# Everything fetched goes to caches outside the clone (~/.cache/cinecut, and the
# cargo target dir CARGO_TARGET_DIR, default ~/.cache/cinecut/target), so a
# second run on the same machine is quick; nothing depends on those caches.
set -euo pipefail
cd "$(dirname "$0")"
cmd=${1:-}
case "$cmd" in demo|test) ;; *) echo "usage: $0 demo|test" >&2; exit 2 ;; esac

# The analysis decodes through FFmpeg's libraries in process (the -dev
# packages; the ffmpeg-sys-next crate generates its bindings with libclang).
APT_PKGS="ffmpeg fonts-dejavu-core ca-certificates python3 python3-venv python3-pip gcc pkg-config
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev libclang-dev clang"
missing=""
for p in $APT_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "setup: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if ! command -v cargo >/dev/null; then
  [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null; then
  echo "setup: no Rust toolchain found; installing Debian's cargo (needs Rust >= 1.82)" >&2
  apt-get install -y -qq cargo >/dev/null
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/cinecut/target}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

if [ "$cmd" = demo ]; then
  scripts/fixtures.sh demo
  cargo build --release --locked
  exec "$CARGO_TARGET_DIR/release/cinecut" demo
fi

scripts/fixtures.sh tests
# What tests/export.rs reads the exports with: melt renders the MLT, xmllint
# reads the FCPXML, OpenTimelineIO 0.18.1 and pycmx (a venv) the OTIO and EDL.
for p in melt libxml2-utils; do
  dpkg -s "$p" >/dev/null 2>&1 || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null; }
done
EV=$HOME/.cache/cinecut/export-venv
if ! "$EV/bin/python" -c "import opentimelineio, pycmx" 2>/dev/null; then
  python3 -m venv "$EV"
  "$EV/bin/pip" install -q --disable-pip-version-check opentimelineio==0.18.1 pycmx
fi
cargo build --locked --all-targets
exec cargo test --locked -- --test-threads=2
