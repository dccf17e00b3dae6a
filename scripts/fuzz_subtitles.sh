#!/usr/bin/env bash
# Fuzzes the subtitle reader (cargo-fuzz, nightly toolchain) for $1 seconds
# (default 600), seeded with the real subtitle fixtures.
# Needs: rustup toolchain install nightly; cargo install cargo-fuzz
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-600}"
fixtures="${CINECUT_FIXTURES:-$HOME/.cache/cinecut/fixtures}"
corpus=fuzz/corpus/subtitles
mkdir -p "$corpus"
for f in "$fixtures"/subs/*/* "$fixtures"/ted/test.{srt,vtt,ass,ssa,sbv,sub}; do
  # Small seeds mutate faster; the big files are covered by the unit tests.
  [ -f "$f" ] && [ "$(stat -c %s "$f")" -lt 20000 ] && cp "$f" "$corpus/seed-$(basename "$f")"
done
# A UTF-8 head of each real film so that their quirks are in the corpus too.
head -c 8000 "$fixtures/subs/pysrt/windows-1252.srt" > "$corpus/seed-anchorman-head.srt"
head -c 8000 "$fixtures/subs/webvtt/netflix_chicas_del_cable.vtt" > "$corpus/seed-chicas-head.vtt"
cargo +nightly fuzz run subtitles -j1 "$corpus" -- -max_total_time="$secs" -max_len=16384 -rss_limit_mb=2048
