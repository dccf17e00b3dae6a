#!/usr/bin/env bash
# Build shot-detection test films with exact ground truth from real footage.
#
# Single-shot stretches of the fixture clips (Big Buck Bunny, the TED clip,
# the bbb_short excerpt; each stretch checked by eye on a contact sheet to lie
# between two real cuts) are joined with known hard cuts (concat), dissolves
# and fades through black/white (xfade), and 2-3-frame flashes (white or
# brightened frames inside a shot, which are NOT cuts) are burnt in. All
# segments are normalised to 1280x720, 24 fps, so every boundary is a known
# frame number. Writes FILM.mp4 + FILM.truth.json per film into OUT_DIR.
#
# Robustness films put one difficulty each over real shots: strobing
# (bursts of bright/white frames inside shots, listed as flashes), very dark
# shots, letterbox/pillarbox bars, burnt-in subtitles (the TED clip's real
# cues through the libass `subtitles` filter; cue changes are not cuts), and
# fast camera motion (pans, whip pans, shake and zoom made by moving a crop
# over real footage). `holdout` mixes all of them over other shot/look
# pairings; it was not looked at while the detector was tuned.
#
# usage: scripts/make_shot_truth.sh [OUT_DIR [FILM...]]
#   OUT_DIR default ~/.cache/cinecut/shot_truth; FILM one of cuts_flashes,
#   gradual, mixed, tiny, strobe, dark, letterbox, subtitles, motion, holdout
#   (the benchmark set, the default) or itest (a short film with one of
#   everything, for the integration test).
# env:   CINECUT_FIXTURES (default ~/.cache/cinecut/fixtures)
set -euo pipefail

FIX="${CINECUT_FIXTURES:-$HOME/.cache/cinecut/fixtures}"
OUT="${1:-$HOME/.cache/cinecut/shot_truth}"
shift || true
WANT=("${@:-cuts_flashes gradual mixed tiny strobe dark letterbox subtitles motion holdout}")
WANT=(${WANT[*]})
BBB="$FIX/bbb.mp4"
TED="$FIX/ted/test.mp4"
SHORT="$FIX/bbb_short.mp4"
for f in "$BBB" "$TED" "$SHORT"; do
  [[ -f "$f" ]] || { echo "missing fixture: $f (set CINECUT_FIXTURES)" >&2; exit 1; }
done
mkdir -p "$OUT"
FPS=24

# name -> "file start_seconds frames [extra filter]". Verified single shots.
declare -A SEG=(
  [B1]="$BBB 12.2 72"    [B2]="$BBB 16.1 96"    [B3]="$BBB 48.2 96"
  [B4]="$BBB 56.4 84"    [B5]="$BBB 64.2 96"    [B6]="$BBB 80.5 108"
  [B7]="$BBB 104.5 96"   [B8]="$BBB 130 96"     [B9]="$BBB 305.5 60"
  [B10]="$BBB 340.5 96"  [B11]="$BBB 358 96"    [B12]="$BBB 473.2 96"
  [T1]="$TED 14 96"      [T2]="$TED 23 96"      [T3]="$TED 34 96"
  [T4]="$TED 42.5 96"    [T5]="$TED 54 96"      [S]="$SHORT 0 120"
  [S3]="$SHORT 0 72"
  # A very dark version of a shot, and a letterboxed one.
  [B5dark]="$BBB 64.2 96 lutyuv=y=val*0.22:u=128+(val-128)*0.5:v=128+(val-128)*0.5"
  [B7box]="$BBB 104.5 96 scale=1280:536,pad=1280:720:0:92"
)
# Looks for "SEG@LOOK" tokens: a filter put on the segment after it is
# normalised to 1280x720 (n counts the segment's frames).
declare -A LOOK=(
  # Very dark (night, underexposed): luma at 12-20 % and washed-out chroma.
  [dark]="lutyuv=y=16+(val-16)*0.16:u=128+(val-128)*0.4:v=128+(val-128)*0.4"
  [dim]="lutyuv=y=16+(val-16)*0.25:u=128+(val-128)*0.5:v=128+(val-128)*0.5"
  # 2.39:1 letterbox, 4:3 pillarbox.
  [box]="scale=1280:536,pad=1280:720:0:92"
  [pillar]="scale=960:720,pad=1280:720:160:0"
  # Camera motion over the real picture: a swinging pan (up to 40 px of
  # 1280 per frame), a whip pan (45 px per frame), handheld shake (up to
  # ~150 px between frames) and a fast zoom (2.5x in 4 s).
  [pan]="scale=2560:1440,crop=1280:720:x='640+640*sin(n/8)':y=360"
  [whip]="scale=2560:1440,crop=1280:720:x='min(1280,max(0,(n-30)*90))':y=360"
  [shake]="scale=1600:900,crop=1280:720:x='160+110*sin(n*1.9)+40*sin(n*4.3)':y='90+60*sin(n*2.7)+25*sin(n*5.1)'"
  [zoom]="zoompan=z='1+0.016*on':d=1:s=1280x720:fps=24:x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2'"
)
# Burnt-in subtitles: the TED clip's real cues, shifted 12 s earlier so they
# start at once, in a big boxed style so every cue change is a visible jump.
SUBS="$OUT/.ted_cues.srt"
SUBSTYLE="FontSize=26,BorderStyle=3,Outline=2,Shadow=0,MarginV=30"

# build NAME TOKEN...   tokens: a segment name; "cut"; "dissolve:F";
# "fadeblack:F"; "fadewhite:F" (F = transition frames); "flash:AT:LEN:white|bright"
# (applies to the segment that follows, AT frames into it).
build() {
  local name=$1; shift
  [[ " ${WANT[*]} " == *" $name "* ]] || return 0
  local args=() fg="" idx=0 acc="" len=0 pending="" trs=() fls=() flash="" post=""
  for tok in "$@"; do
    case "$tok" in
      cut|dissolve:*|fadeblack:*|fadewhite:*) pending="$tok"; continue ;;
      flash:*|strobe:*) flash="$tok"; continue ;;
      post:*) post="${tok#post:}"; continue ;;
    esac
    local look=""
    if [[ $tok == *@* ]]; then look="${LOOK[${tok#*@}]}"; tok="${tok%@*}"; fi
    read -r file start frames extra <<<"${SEG[$tok]}"
    [[ -n "$look" ]] && extra="${extra:+$extra,}$look"
    args+=(-ss "$start" -t "$(awk -v n="$frames" -v f=$FPS 'BEGIN{print n/f+1}')" -i "$file")
    local chain="fps=$FPS,trim=end_frame=$frames,setpts=PTS-STARTPTS"
    chain+=",scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2"
    [[ -n "${extra:-}" ]] && chain+=",$extra"
    local segstart=$len d=0
    case "$pending" in
      dissolve:*|fadeblack:*|fadewhite:*) d=${pending#*:}; segstart=$((len - d)) ;;
    esac
    if [[ $flash == strobe:* ]]; then
      # strobe:AT:LEN:PERIOD:KIND — the first PERIOD/2 of every PERIOD frames
      # lit during LEN frames; the whole burst is one flash span in the truth.
      IFS=: read -r _ at fl per kind <<<"$flash"
      local en="enable='between(n,$at,$((at + fl - 1)))*lt(mod(n-$at,$per),$((per / 2)))'"
      if [[ $kind == white ]]; then chain+=",lutyuv=y=235:u=128:v=128:$en"
      else chain+=",eq=brightness=0.45:contrast=0.7:$en"; fi
      fls+=("{\"start_frame\": $((segstart + at)), \"end_frame\": $((segstart + at + fl - 1)), \"kind\": \"strobe_$kind\"}")
      flash=""
    elif [[ -n "$flash" ]]; then
      IFS=: read -r _ at fl kind <<<"$flash"
      local en="enable='between(n,$at,$((at + fl - 1)))'"
      if [[ $kind == white ]]; then chain+=",lutyuv=y=235:u=128:v=128:$en"
      else chain+=",eq=brightness=0.45:contrast=0.7:$en"; fi
      fls+=("{\"start_frame\": $((segstart + at)), \"end_frame\": $((segstart + at + fl - 1)), \"kind\": \"$kind\"}")
      flash=""
    fi
    chain+=",setsar=1,format=yuv420p,settb=1/$FPS"
    fg+="[$idx:v]$chain[v$idx];"
    if [[ $idx -eq 0 ]]; then
      acc="v0"; len=$frames
    else
      case "$pending" in
        cut)
          fg+="[$acc][v$idx]concat=n=2:v=1:a=0,settb=1/$FPS[a$idx];"
          trs+=("{\"kind\": \"cut\", \"start_frame\": $len, \"end_frame\": $len}")
          len=$((len + frames)) ;;
        *)
          local tr=${pending%%:*} kind
          case $tr in dissolve) kind=dissolve; tr=fade ;; fadeblack) kind=fade_black ;; fadewhite) kind=fade_white ;; esac
          local off=$((len - d))
          fg+="[$acc][v$idx]xfade=transition=$tr:duration=$(awk -v d=$d -v f=$FPS 'BEGIN{printf "%.6f", d/f}'):offset=$(awk -v o=$off -v f=$FPS 'BEGIN{printf "%.6f", o/f}'),settb=1/$FPS[a$idx];"
          trs+=("{\"kind\": \"$kind\", \"start_frame\": $off, \"end_frame\": $((off + d - 1))}")
          len=$((len + frames - d)) ;;
      esac
      acc="a$idx"
    fi
    pending=""; idx=$((idx + 1))
  done
  local secs; secs=$(awk -v n=$len -v f=$FPS 'BEGIN{printf "%.6f", n/f}')
  if [[ $post == subs ]]; then
    [[ -f "$SUBS" ]] || ffmpeg -hide_banner -loglevel error -nostdin -y -itsoffset -12 \
      -i "$FIX/ted/test.srt" "$SUBS"
    fg+="[$acc]subtitles=f=$SUBS:force_style='$SUBSTYLE'[subs];"
    acc=subs
  fi
  # Soundtrack: a continuous stretch of Big Buck Bunny's audio (shot truth
  # does not depend on it, but the analysis decodes it in the same pass).
  args+=(-ss 200 -i "$BBB")
  ffmpeg -hide_banner -loglevel error -nostdin -y "${args[@]}" \
    -filter_complex "${fg%;}" -map "[$acc]" -map "$idx:a:0" -t "$secs" \
    -c:v libx264 -preset veryfast -crf 20 -pix_fmt yuv420p -c:a aac -b:a 128k \
    -movflags +faststart "$OUT/$name.mp4"
  local got; got=$(ffprobe -v error -count_packets -select_streams v:0 \
    -show_entries stream=nb_read_packets -of csv=p=0 "$OUT/$name.mp4")
  if [[ "$got" != "$len" ]]; then
    echo "$name: expected $len frames, got $got" >&2; exit 1
  fi
  local IFS=,
  printf '{"film": "%s.mp4", "fps": %s, "frame_count": %s,\n "transitions": [%s],\n "flashes": [%s]}\n' \
    "$name" "$FPS" "$len" "${trs[*]}" "${fls[*]}" >"$OUT/$name.truth.json"
  echo "$OUT/$name.mp4: $len frames, ${#trs[@]} transitions, ${#fls[@]} flashes"
}

# 1. Hard cuts between real shots, with flashes inside shots.
build cuts_flashes B1 cut B2 cut flash:40:2:white B3 cut B4 cut flash:30:3:bright B5 \
  cut B6 cut flash:50:3:white B7 cut B8 cut flash:44:2:bright B9 cut B10 cut \
  flash:48:2:white B11 cut B12
# 2. Gradual transitions: dissolves and fades through black and white.
build gradual B12 dissolve:12 B11 fadeblack:24 B10 dissolve:24 B9 fadewhite:24 B8 cut \
  B7 dissolve:18 B6 fadeblack:36 B5 dissolve:12 B4 fadewhite:18 B3 cut B2 dissolve:24 B1
# 3. Mixed material: TED talk shots, the short excerpt, a very dark shot, a letterboxed shot.
build mixed T1 cut T2 dissolve:18 T3 cut S fadeblack:24 flash:40:3:white T4 cut B5dark \
  dissolve:24 B7box cut flash:50:2:bright T5 fadewhite:24 B3 cut B10
# 4. A film under 10 s.
build tiny S3 cut B9
# 5. Strobing inside shots (bright and white, periods 2-4 frames, up to 2 s).
build strobe B2 cut strobe:20:36:4:bright B3 cut B6 cut strobe:30:48:3:white B8 cut \
  B10 cut strobe:10:30:2:bright B11 cut B4 cut strobe:40:40:3:bright B12
# 6. Very dark shots: cuts and a dissolve between them, a fade to black out
#    of one, a cut from dark to normal.
build dark B1@dark cut B3@dark cut B4@dim dissolve:18 B6@dark cut B8@dark \
  fadeblack:24 B10@dark cut B11@dim cut B12 cut T3@dark
# 7. Letterbox and pillarbox bars (the bars stay, only the picture cuts).
build letterbox B1@box cut B2@box cut B4@box dissolve:18 B5@box cut B6 cut \
  B7@pillar cut B9@pillar fadeblack:24 B10@box cut B11@box cut B12@box
# 8. Burnt-in subtitles over long shots: cue changes inside shots.
build subtitles T1 cut B3 cut B5 cut T2 dissolve:18 B8 cut B12 cut T4 cut B10 post:subs
# 9. Fast camera motion: pans, whip pans, shake, zoom.
build motion B2@pan cut B4@shake cut B6@whip cut B8@zoom cut B10@shake cut \
  B11@pan dissolve:18 B12@whip cut B3@shake
# 10. Held-out mix of every difficulty on other shot/look pairings.
build holdout B12@pan cut B2@dark cut strobe:20:40:3:white B4 cut B6@box fadeblack:24 \
  B8@shake cut T4 dissolve:18 B10@dark cut B1@whip cut strobe:12:30:2:bright B9@pillar \
  cut B5@zoom cut T5 post:subs
# 11. Integration-test film: a cut, a flash, a fade through black, a dissolve.
build itest B1 cut flash:30:2:white B2 fadeblack:24 B9 dissolve:18 S3
