"""Score ours, librosa 0.11 beat_track and (when it installed) madmom's DBN
tracker on the beat-truth set of scripts/make_beat_truth.sh, per class and per
half (tune / validation), in one run.

Usage: beats_truth.py TRUTH_DIR OURS.jsonl [REF.jsonl]
OURS.jsonl comes from `cargo bench --bench beats` over the set's audio files;
REF.jsonl from benches/beats_ref.py (madmom). librosa runs here: `load` at
22050 Hz plus `beat_track`, timed together (file to beats, best of 2 after
a warm-up), against ours' file_seconds (decode + track_beats, best of 3).
Metrics are mir_eval's (F-measure at +-70 ms, CMLt, AMLt, first 5 s not
trimmed away on 40 s excerpts: trim_beats is used as usual).
"""

import json
import os
import sys
import time
from collections import defaultdict

import librosa
import mir_eval
import numpy as np

RATIOS = {"x2": 2.0, "x1/2": 0.5, "x3/2": 1.5, "x2/3": 2 / 3, "x3": 3.0, "x1/3": 1 / 3}


def tempo_class(est, ref):
    """'ok', a metrical ratio name, or 'other', from median inter-beat intervals."""
    if len(est) < 2:
        return "none"
    r = np.median(np.diff(ref)) / np.median(np.diff(est))
    if abs(r - 1) < 0.04:
        return "ok"
    for name, v in RATIOS.items():
        if abs(r / v - 1) < 0.04:
            return name
    return "other"


def bar_ok(est_down, est_meter, truth):
    """Bar phase right: same meter, and most of our downbeats on true ones."""
    ref = truth.get("downbeats")
    if not ref or truth["meter"] not in (3, 4) or est_meter is None:
        return None
    if est_meter != truth["meter"] or len(est_down) == 0:
        return False
    ref = np.asarray(ref)
    hits = sum(np.min(np.abs(ref - d)) <= 0.07 for d in est_down)
    return hits >= 0.5 * len(est_down)


def offsets(est, ref):
    """Signed est - truth of each true beat matched within 70 ms."""
    est = np.asarray(est)
    if len(est) == 0:
        return []
    out = []
    for r in ref:
        i = np.argmin(np.abs(est - r))
        if abs(est[i] - r) <= 0.07:
            out.append(est[i] - r)
    return out


def score(est, truth, est_down=(), est_meter=None):
    ref = mir_eval.beat.trim_beats(np.asarray(truth["beats"]))
    e = mir_eval.beat.trim_beats(np.asarray(est, dtype=float))
    f = mir_eval.beat.f_measure(ref, e)
    _, cmlt, _, amlt = mir_eval.beat.continuity(ref, e)
    return {
        "F": f,
        "CMLt": cmlt,
        "AMLt": amlt,
        "tempo": tempo_class(np.asarray(est, dtype=float), np.asarray(truth["beats"])),
        "bar": bar_ok(np.asarray(est_down, dtype=float), est_meter, truth),
        "offsets": offsets(est, truth["beats"]),
    }


def run_librosa(path):
    def once():
        y, sr = librosa.load(path, sr=22050)
        _, b = librosa.beat.beat_track(y=y, sr=sr, units="time")
        return b

    best, beats = float("inf"), None
    for _ in range(2):
        t = time.perf_counter()
        beats = once()
        best = min(best, time.perf_counter() - t)
    return beats, best


def load_jsonl(path):
    rows = {}
    if path and os.path.isfile(path):
        for line in open(path):
            if line.strip():
                r = json.loads(line)
                rows[os.path.basename(os.path.dirname(r["file"]))] = r
    return rows


def table(results, trackers, index):
    hdr = f"{'class':14} {'half':10} {'n':>2} " + " ".join(
        f"{w + ' F':>10} {'CMLt':>5} {'AMLt':>5} {'oct':>3}" for w in trackers
    )
    print(hdr)
    print("-" * len(hdr))
    groups = defaultdict(list)
    for item in index:
        groups[(item["class"], item["half"])].append(item["id"])
        groups[("ALL", item["half"])].append(item["id"])
    for key in sorted(groups, key=lambda k: (k[0] == "ALL", k)):
        ids = groups[key]
        cells = []
        for w in trackers:
            rs = [results[w][i] for i in ids if i in results[w]]
            if not rs:
                cells.append(f"{'-':>10} {'':5} {'':5} {'':3}")
                continue
            oct_n = sum(r["tempo"] != "ok" for r in rs)
            cells.append(
                f"{np.mean([r['F'] for r in rs]):10.3f} {np.mean([r['CMLt'] for r in rs]):5.2f}"
                f" {np.mean([r['AMLt'] for r in rs]):5.2f} {oct_n:3d}"
            )
        print(f"{key[0]:14} {key[1]:10} {len(ids):2d} " + " ".join(cells))


def main():
    tdir, ours_path = sys.argv[1], sys.argv[2]
    ref_path = sys.argv[3] if len(sys.argv) > 3 else None
    index = json.load(open(os.path.join(tdir, "index.json")))
    ours, ref = load_jsonl(ours_path), load_jsonl(ref_path)
    trackers = ["ours", "librosa"] + (["madmom"] if ref else [])
    print(f"load average before librosa: {os.getloadavg()}")
    y, sr = librosa.load(os.path.join(tdir, index[0]["id"], "audio.ogg"), sr=22050)
    librosa.beat.beat_track(y=y, sr=sr)  # numba warm-up
    results = {w: {} for w in trackers}
    times = {w: 0.0 for w in trackers}
    print(f"{'track':30} {'class':14} {'half':5} {'bpm':>5}  ours F/tempo/bar   librosa F/tempo   madmom F/tempo")
    for item in index:
        tid = item["id"]
        truth = json.load(open(os.path.join(tdir, tid, "truth.json")))
        path = os.path.join(tdir, tid, "audio.ogg")
        o = ours[tid]
        results["ours"][tid] = score(o["beats"], truth, o["downbeats"], o.get("meter"))
        times["ours"] += o["file_seconds"]
        lb, lt = run_librosa(path)
        results["librosa"][tid] = score(lb, truth)
        times["librosa"] += lt
        line = (
            f"{tid:30} {item['class']:14} {item['half'][:5]:5} {truth['bpm']:5.0f}"
            f"  {results['ours'][tid]['F']:.3f} {results['ours'][tid]['tempo']:5} {str(results['ours'][tid]['bar']):5}"
            f"  {results['librosa'][tid]['F']:.3f} {results['librosa'][tid]['tempo']:5}"
        )
        if ref:
            r = ref[tid]
            results["madmom"][tid] = score(r["beats"], truth)
            times["madmom"] += r["file_seconds"]
            line += f"  {results['madmom'][tid]['F']:.3f} {results['madmom'][tid]['tempo']:5}"
        print(line)
    print()
    table(results, trackers, index)
    print()
    for half in ("tune", "validation"):
        ids = [i["id"] for i in index if i["half"] == half]
        for w in trackers:
            fs = [results[w][i]["F"] for i in ids]
            print(f"{half:10} {w:8} mean F {np.mean(fs):.3f}, lowest {min(fs):.3f},"
                  f" tempo errors {sum(results[w][i]['tempo'] != 'ok' for i in ids)}")
    bars = [r["bar"] for r in results["ours"].values() if r["bar"] is not None]
    print(f"ours: bar phase right on {sum(bars)}/{len(bars)} tracks in 4/4 or 3/4 with downbeat truth")
    print("median signed offset ours - truth (ms) per class:", end="")
    by_cls = defaultdict(list)
    for item in index:
        by_cls[item["class"]] += results["ours"][item["id"]]["offsets"]
    print(" ".join(f"{c} {1e3 * np.median(v):+.0f}" for c, v in sorted(by_cls.items()) if v))
    for w in trackers:
        if w != "librosa":
            print(f"speed, file to beats, librosa / {w}: {times['librosa'] / times[w]:.2f}x"
                  f" ({times['librosa']:.1f} s vs {times[w]:.1f} s over {len(index)} files)")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
