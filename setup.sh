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
# The tests read the HTML report in a real headless browser (tests/report.rs)
# and fetch npm-packaged subtitles. npm only when there is none: a machine
# with NodeSource's nodejs has its own npm, and Debian's npm conflicts with it.
if [ "$cmd" = test ]; then
  APT_PKGS="$APT_PKGS chromium"
  command -v npm >/dev/null || APT_PKGS="$APT_PKGS npm"
fi
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
# The oldest Rust that builds CineCut (Cargo.toml's rust-version; the lock is
# resolved for it). Debian 12's `cargo` is 1.63, too old; its `cargo-web`
# (1.85 in bookworm, newer in bookworm-security) serves, as does Debian 13's
# `cargo` (1.85).
rust_min=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
if ! command -v cargo >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  # apt's lists may be empty when every package above was already there.
  apt-cache policy cargo 2>/dev/null | grep -q 'Candidate: [0-9]' || apt-get update -qq
  rust_pkg=cargo
  if [ -n "$(apt-cache policy cargo-web 2>/dev/null | sed -n 's/^ *Candidate: \([^(].*\)/\1/p')" ]; then
    rust_pkg=cargo-web
  fi
  echo "setup: no Rust toolchain found; installing Debian's $rust_pkg (CineCut needs Rust >= $rust_min)" >&2
  apt-get install -y -qq --no-install-recommends "$rust_pkg" >/dev/null
fi
rust_have=$(cargo --version | sed -n 's/^cargo \([0-9]*\.[0-9]*\).*/\1/p')
if [ "$(printf '%s\n%s\n' "$rust_min" "$rust_have" | sort -V | head -1)" != "$rust_min" ]; then
  echo "setup: $(command -v cargo) is Rust $rust_have; CineCut needs Rust >= $rust_min." >&2
  echo "setup: on Debian 12 remove 'cargo' and install 'cargo-web' (apt-get install cargo-web), or install rustup" >&2
  exit 1
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
