"""Score our beat tracker against librosa 0.11 beat_track on the Muldjord songs.

Reads the JSON lines of the Rust bench (stdin), runs librosa on the same
files (decoded at 22050 Hz before timing, warmed up first, best of 5), and
prints F-measure (±70 ms), CMLt and tempo error from mir_eval for both,
plus the wall and CPU time of each and the speed ratios. CPU time (all
threads of the process) is the steadier ratio when the machine is shared:
the two halves run one after the other, so their wall times can see
different loads.
"""
import json
import os
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


def best_of(n, fn):
    """Best wall and best CPU time of n calls, and the last result."""
    wall, cpu, out = float("inf"), float("inf"), None
    for _ in range(n):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        wall = min(wall, time.perf_counter() - t)
        cpu = min(cpu, time.process_time() - c)
    return wall, cpu, out


def main():
    rows = [json.loads(line) for line in sys.stdin if line.strip()]
    print(f"load average before librosa: {os.getloadavg()}")
    # Warm-up: numba compiles librosa's DP on the first call.
    y, sr = librosa.load(rows[0]["file"], sr=22050, duration=30.0)
    librosa.beat.beat_track(y=y, sr=sr)
    hdr = (
        f"{'song':24} {'who':8} {'F':>6} {'CMLt':>6} {'bpm':>7} {'tempo err':>9}"
        f" {'wall s':>8} {'cpu s':>8}"
    )
    print(hdr)
    print("-" * len(hdr))
    fs = {"ours": [], "librosa": []}
    walls = {"ours": [], "librosa": []}
    cpus = {"ours": [], "librosa": []}
    for row in rows:
        name = song_name(row["file"])
        bpm = TRUTH_BPM[name]
        y, sr = librosa.load(row["file"], sr=22050)
        ref = np.arange(0.0, len(y) / sr, 60.0 / bpm)
        wall, cpu, (tempo, beats) = best_of(
            5, lambda: librosa.beat.beat_track(y=y, sr=sr, units="time")
        )
        # Where librosa's time goes: its onset envelope alone.
        onset_wall, _, _ = best_of(5, lambda: librosa.onset.onset_strength(y=y, sr=sr))
        lib_bpm = float(np.atleast_1d(tempo)[0])
        for who, est, est_bpm, secs, cpu_s in (
            ("ours", row["beats"], row["bpm"], row["seconds"], row["cpu_seconds"]),
            ("librosa", beats, lib_bpm, wall, cpu),
        ):
            f, cmlt = scores(ref, est)
            err = (est_bpm - bpm) / bpm * 100.0
            fs[who].append(f)
            walls[who].append(secs)
            cpus[who].append(cpu_s)
            print(
                f"{name:24} {who:8} {f:6.3f} {cmlt:6.3f} {est_bpm:7.2f} {err:8.1f}%"
                f" {secs:8.4f} {cpu_s:8.4f}"
            )
        stages = " ".join(f"{n} {t * 1e3:.2f}" for n, t in row["stages"])
        print(f"{'':24} ours, ms per stage (best of 5): {stages}")
        print(f"{'':24} librosa onset_strength alone: {onset_wall * 1e3:.1f} ms")
        print(
            f"{'':24} speed ratio librosa/ours: wall {wall / row['seconds']:.1f}x,"
            f" cpu {cpu / row['cpu_seconds']:.1f}x"
        )
    print("-" * len(hdr))
    for who in ("ours", "librosa"):
        print(
            f"{'mean':24} {who:8} {np.mean(fs[who]):6.3f} {'':6} {'':7} {'':9}"
            f" {np.sum(walls[who]):8.4f} {np.sum(cpus[who]):8.4f}"
        )
    print(
        "overall speed ratio librosa/ours:"
        f" wall {np.sum(walls['librosa']) / np.sum(walls['ours']):.1f}x,"
        f" cpu {np.sum(cpus['librosa']) / np.sum(cpus['ours']):.1f}x"
    )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
