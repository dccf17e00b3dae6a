"""Score our beat tracker against librosa 0.11 beat_track on the Muldjord songs.

Reads the JSON lines of the Rust bench (stdin), runs librosa on the same
files (decoded at 22050 Hz before timing, warmed up first, best of 5), and
prints F-measure (±70 ms), CMLt and tempo error from mir_eval for both,
plus the wall time of each and the speed ratio.
"""
import json
import sys
import time

import librosa
import mir_eval
import numpy as np

TRUTH_BPM = {
    "Armygeddon": 170.0,
    "Chaos_God": 170.0,
    "Internal_Degeneration": 190.0,
    "Mutilated_Mime": 180.0,
}


def song_name(path):
    for name in TRUTH_BPM:
        if name in path:
            return name
    raise SystemExit(f"{path}: not one of the Muldjord songs {list(TRUTH_BPM)}")


def scores(ref, est):
    ref_t = mir_eval.beat.trim_beats(np.asarray(ref))
    est_t = mir_eval.beat.trim_beats(np.asarray(est))
    f = mir_eval.beat.f_measure(ref_t, est_t)
    _, cmlt, _, _ = mir_eval.beat.continuity(ref_t, est_t)
    return f, cmlt


def main():
    rows = [json.loads(line) for line in sys.stdin if line.strip()]
    # Warm-up: numba compiles librosa's DP on the first call.
    y, sr = librosa.load(rows[0]["file"], sr=22050, duration=30.0)
    librosa.beat.beat_track(y=y, sr=sr)
    hdr = f"{'song':24} {'who':8} {'F':>6} {'CMLt':>6} {'bpm':>7} {'tempo err':>9} {'time s':>8}"
    print(hdr)
    print("-" * len(hdr))
    fs = {"ours": [], "librosa": []}
    times = {"ours": [], "librosa": []}
    for row in rows:
        name = song_name(row["file"])
        bpm = TRUTH_BPM[name]
        y, sr = librosa.load(row["file"], sr=22050)
        ref = np.arange(0.0, len(y) / sr, 60.0 / bpm)
        best = float("inf")
        for _ in range(5):
            t = time.perf_counter()
            tempo, beats = librosa.beat.beat_track(y=y, sr=sr, units="time")
            best = min(best, time.perf_counter() - t)
        lib_bpm = float(np.atleast_1d(tempo)[0])
        for who, est, est_bpm, secs in (
            ("ours", row["beats"], row["bpm"], row["seconds"]),
            ("librosa", beats, lib_bpm, best),
        ):
            f, cmlt = scores(ref, est)
            err = (est_bpm - bpm) / bpm * 100.0
            fs[who].append(f)
            times[who].append(secs)
            print(f"{name:24} {who:8} {f:6.3f} {cmlt:6.3f} {est_bpm:7.2f} {err:8.1f}% {secs:8.4f}")
        print(f"{'':24} speed ratio librosa/ours: {best / row['seconds']:.1f}x")
    print("-" * len(hdr))
    for who in ("ours", "librosa"):
        print(f"{'mean':24} {who:8} {np.mean(fs[who]):6.3f} {'':6} {'':7} {'':9} {np.sum(times[who]):8.4f}")
    print(f"overall speed ratio librosa/ours: {np.sum(times['librosa']) / np.sum(times['ours']):.1f}x")


if __name__ == "__main__":
    main()
