#!/usr/bin/env bash
# Grade cost: the vibe's eq+colorbalance chain against its generated LUT
# (lut3d), in CPU seconds on 15 s of Big Buck Bunny 720p, decode + filter only (-f null),
# measured in the same run; prints the ratio. Also the mean absolute pixel
# difference between the two (how closely the LUT follows the filters).
# Usage: scripts/bench_lut.sh [vibe]   (default action)
set -euo pipefail
vibe=${1:-action}
fx=${CINECUT_FIXTURES:-$HOME/.cache/cinecut/fixtures}
film="$fx/bbb.mp4"
[ -f "$film" ] || { echo "missing $film" >&2; exit 1; }
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
out=$(cargo run -q --example finish_demo -- "$vibe" "$dir")
lut=$(sed -n 's/^lut    //p' <<<"$out")
# The chain without its vignette (the LUT leaves the vignette to the filter).
chain=$(sed -n 's/^filter //p' <<<"$out" | sed 's/,vignette=[^,]*//')
# CPU seconds (user+sys), not wall time: the build machine is shared.
t() { /usr/bin/time -f "%U %S" ffmpeg -hide_banner -loglevel error -threads 1 -ss 60 -t 15 -i "$film" -an -vf "$1" -f null - 2>&1 | tail -1 | awk '{print $1+$2}'; }
base=$(t "null"); tf=$(t "$chain"); tl=$(t "$lut")
echo "decode only      ${base} s"
echo "eq+colorbalance  ${tf} s"
echo "lut3d            ${tl} s"
echo "ratio lut/filters (grade cost beyond decode): $(echo "($tl - $base) / ($tf - $base)" | bc -l | cut -c1-5)"
diff=$(ffmpeg -hide_banner -ss 120 -i "$film" -frames:v 48 -filter_complex \
  "[0:v]split[a][b];[a]$chain,format=rgb24[x];[b]$lut,format=rgb24[y];[x][y]blend=all_mode=difference,format=gray,signalstats,metadata=print:key=lavfi.signalstats.YAVG" \
  -f null - 2>&1 | sed -n 's/.*YAVG=//p' | awk '{s+=$1;n++} END {printf "%.2f", s/n}')
echo "mean |filters - lut| (8-bit levels, luma of the difference): $diff"
