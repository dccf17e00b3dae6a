"""Render the beat-truth set: scores from music21's corpus (a PyPI wheel) played
through fluidsynth, with beats, downbeats and meter taken from the score and
the tempo map we play it at, plus excerpts of the Muldjord recordings.

Usage: beat_truth.py OUT_DIR SOUNDFONT [MULDJORD_DIR]
Writes OUT_DIR/<id>/audio.ogg and OUT_DIR/<id>/truth.json, and OUT_DIR/index.json.
A track whose truth.json carries the same recipe and whose audio still has the
recorded sha256 is not rendered again.

Truth is exact by construction: every note onset, drum hit and beat goes
through the same ql -> seconds map (swing, then the tempo map), so the beats
are where the score puts them; the only error left is the synth's attack
time (a few ms).
"""

import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import mido
import music21

EXCERPT_S = 40.0
SR = 22050
GM_DRUMS = {"kick": 36, "snare": 38, "rim": 37, "clap": 39, "hat": 42, "pedal": 44, "open": 46, "ride": 51}
CORPUS_LICENCE = (
    "music21 corpus (BSD-licensed toolkit; encodings distributed with the encoders' permission,"
    " works out of copyright in the US, see music21/corpus/license.txt)"
)

# id, class, corpus path, beat (quarter lengths), BPM of that beat, options.
# Options: drums=<pattern>, swing=<long fraction>, programs=[...], tempo=[(bar, bpm)...],
# intro=<seconds of soft melody only>, start_bar=<first bar played>.
TRACKS = [
    ("ballad_bwv1_6", "slow_ballad", "bach/bwv1.6.mxl", 1.0, 62, {"drums": "ballad", "programs": [0]}),
    ("ballad_bwv10_7", "slow_ballad", "bach/bwv10.7.mxl", 1.0, 70, {"programs": [0]}),
    ("ballad_bwv101_7", "slow_ballad", "bach/bwv101.7.mxl", 1.0, 78, {"drums": "ballad", "programs": [4]}),
    ("ballad_aloha_oe", "slow_ballad", "liliuokalani/aloha_oe.mxl", 1.0, 86, {"programs": [0]}),
    ("swing_college_hp", "swing_shuffle", "ryansMammoth/CollegeHornpipe.abc", 1.0, 96, {"swing": 2 / 3, "drums": "shuffle", "programs": [0]}),
    ("swing_christmas_hp", "swing_shuffle", "ryansMammoth/ChristmasHornpipe.abc", 1.0, 102, {"swing": 2 / 3, "programs": [0]}),
    ("swing_liverpool_hp", "swing_shuffle", "ryansMammoth/LiverpoolHornpipe.abc", 1.0, 110, {"swing": 0.64, "drums": "shuffle", "programs": [26]}),
    ("swing_duxbury_hp", "swing_shuffle", "ryansMammoth/DuxburyHornpipe.abc", 1.0, 120, {"swing": 2 / 3, "programs": [0]}),
    ("rag_maple_leaf_a", "ragtime", "joplin/maple_leaf_rag.mxl", 1.0, 96, {"programs": [0]}),
    ("rag_maple_leaf_b", "ragtime", "joplin/maple_leaf_rag.mxl", 1.0, 104, {"programs": [0], "start_bar": 33}),
    ("rag_maple_leaf_c", "ragtime", "joplin/maple_leaf_rag.mxl", 1.0, 88, {"programs": [0], "start_bar": 17}),
    ("half_millers_reel", "half_time", "ryansMammoth/MillersReel.abc", 1.0, 76, {"drums": "half", "programs": [0]}),
    ("half_bwv102_7", "half_time", "bach/bwv102.7.mxl", 1.0, 84, {"drums": "half", "programs": [0]}),
    ("half_brown_hair", "half_time", "leadSheet/fosterBrownHair.mxl", 1.0, 90, {"drums": "half", "programs": [25]}),
    ("waltz_k156_minuet", "waltz_3_4", "mozart/k156/movement3.mxl", 1.0, 126, {"programs": [40, 40, 41, 42]}),
    ("waltz_k80_minuet", "waltz_3_4", "mozart/k80/movement3.mxl", 1.0, 132, {"programs": [40, 40, 41, 42], "drums": "waltz"}),
    ("waltz_op1no1_m2", "waltz_3_4", "haydn/opus1no1/movement2.mxl", 1.0, 144, {"programs": [0]}),
    ("waltz_k458_minuet", "waltz_3_4", "mozart/k458/movement2.mxl", 1.0, 150, {"programs": [0], "drums": "waltz"}),
    ("six8_irish_washwoman", "six_eight", "ryansMammoth/IrishWashWomanJig.abc", 1.5, 112, {"programs": [0]}),
    ("six8_larry_grogan", "six_eight", "ryansMammoth/LarryGrogansJig.abc", 1.5, 104, {"programs": [0], "drums": "six8"}),
    ("six8_k458", "six_eight", "mozart/k458/movement1.mxl", 1.5, 96, {"programs": [40, 40, 41, 42]}),
    ("classical_k155_m1", "classical", "mozart/k155/movement1.mxl", 1.0, 120, {"programs": [40, 40, 41, 42]}),
    ("classical_op74no1_m1", "classical", "haydn/opus74no1/movement1.mxl", 1.0, 132, {"programs": [0]}),
    ("classical_k80_m4", "classical", "mozart/k80/movement4.mxl", 1.0, 150, {"programs": [40, 40, 41, 42]}),
    ("classical_k545", "classical", "mozart/k545/movement1_exposition.mxl", 1.0, 116, {"programs": [0]}),
    ("edm_arkansas", "four_on_floor", "ryansMammoth/ArkansasTravellerReel.abc", 1.0, 124, {"drums": "four", "programs": [81]}),
    ("edm_bwv103_6", "four_on_floor", "bach/bwv103.6.mxl", 1.0, 128, {"drums": "four", "programs": [88]}),
    ("edm_howard_reel", "four_on_floor", "ryansMammoth/HowardReel.abc", 1.0, 120, {"drums": "four", "programs": [80]}),
    ("rock_grand_spy", "rock_metal", "ryansMammoth/GrandSpyReel.abc", 1.0, 140, {"drums": "rock", "programs": [30]}),
    ("rock_kilkenny", "rock_metal", "ryansMammoth/KilkennyBoysReel.abc", 1.0, 160, {"drums": "rock", "programs": [29]}),
    ("tempo_change_bwv1_6", "tempo_change", "bach/bwv1.6.mxl", 1.0, 90, {"programs": [0], "drums": "rock", "tempo": [(9, 120)]}),
    ("tempo_change_bwv102_7", "tempo_change", "bach/bwv102.7.mxl", 1.0, 128, {"programs": [0], "drums": "four", "tempo": [(7, 100)]}),
    ("quiet_intro_bwv10_7", "quiet_intro", "bach/bwv10.7.mxl", 1.0, 100, {"programs": [0, 48, 48, 48], "drums": "rock", "intro": 12.0}),
    ("quiet_intro_boyle", "quiet_intro", "ryansMammoth/BoyleOReillysReel.abc", 1.0, 116, {"programs": [0], "drums": "four", "intro": 10.0}),
]

with open(__file__, "rb") as _f:
    SCRIPT_SHA = hashlib.sha256(_f.read()).hexdigest()[:12]

MULDJORD = [("Armygeddon", 170), ("Chaos_God", 170), ("Internal_Degeneration", 190), ("Mutilated_Mime", 180)]


def drum_hits(pattern, bar_ql, beat_ql):
    """(position in the bar in ql, drum, velocity) for one full bar."""
    hits = []
    n_beats = round(bar_ql / beat_ql)
    for k in range(n_beats):
        b = k * beat_ql
        if pattern == "rock":
            hits += [(b, "hat", 70), (b + 0.5, "hat", 55)]
            hits.append((b, "kick" if k % 2 == 0 else "snare", 100))
        elif pattern == "four":
            hits += [(b, "kick", 110), (b + 0.5, "open", 60)]
            if k % 2 == 1:
                hits.append((b, "clap", 90))
        elif pattern == "ballad":
            hits.append((b, "hat", 45))
            hits.append((b, "kick" if k % 2 == 0 else "rim", 80))
        elif pattern == "half":
            # Snare on beat 3 of 4 only, busy 16th hats: the half-time feel.
            hits += [(b + q * 0.25, "hat", 60 if q == 0 else 40) for q in range(4)]
            if k % 4 == 0:
                hits.append((b, "kick", 105))
            if k % 4 == 2:
                hits.append((b, "snare", 110))
        elif pattern == "shuffle":
            hits += [(b, "ride", 75), (b + 0.5, "ride", 55)]
            hits.append((b, "kick" if k % 2 == 0 else "snare", 85))
        elif pattern == "waltz":
            hits.append((b, "kick" if k == 0 else "pedal", 95 if k == 0 else 60))
        elif pattern == "six8":
            hits += [(b + q * 0.5, "hat", 55) for q in range(3)]
            hits.append((b, "kick" if k % 2 == 0 else "snare", 95))
    return hits


def measures_of(score):
    """(offset, duration, full bar length) in ql of each measure of part 0."""
    part = score.parts[0] if score.parts else score
    out = []
    for m in part.getElementsByClass("Measure"):
        out.append((float(m.offset), float(m.duration.quarterLength), float(m.barDuration.quarterLength)))
    return out


def note_events(score, programs):
    """(onset ql, duration ql, pitch, velocity, part index) of every sounding note."""
    parts = list(score.parts) if score.parts else [score]
    ev = []
    for pi, part in enumerate(parts):
        for n in part.flatten().notes:
            if isinstance(n, music21.harmony.ChordSymbol) or n.duration.quarterLength <= 0:
                continue
            if n.duration.isGrace:
                continue
            on = float(n.getOffsetInHierarchy(part))
            dur = float(n.duration.quarterLength)
            for p in n.pitches:
                ev.append((on, dur, p.midi, 80, min(pi, len(programs) - 1)))
    return ev


def beat_grid(measures, beat_ql):
    """Beat and downbeat positions (ql) from the bar lines. A pickup (the
    first bar of each pass, when short) has no downbeat: the bar before it
    ends the previous pass, and together they make one full bar. Beats fill
    each span between downbeats; one that is not whole beats long (an odd
    repeat ending) raises, so such a piece is not used."""
    # A bar line is a downbeat when the bars before it (since the pass
    # began) add up to whole bars: two partial bars around a repeat sign
    # make one bar.
    downs, pos = [], 0.0
    for off, dur, bar, pickup in measures:
        if pickup:
            pos = bar - dur
        r = pos % bar
        if min(r, bar - r) < 1e-6:
            downs.append(off)
        pos += dur
    off0, dur0, _, pickup0 = measures[0]
    beats = []
    if pickup0:
        t = off0 + dur0 - beat_ql
        while t >= off0 - 1e-6:
            beats.insert(0, t)
            t -= beat_ql
    last_end = measures[-1][0] + measures[-1][1]
    for i, d in enumerate(downs):
        nxt = downs[i + 1] if i + 1 < len(downs) else last_end
        span = (nxt - d) / beat_ql
        if i + 1 < len(downs) and abs(span - round(span)) > 1e-6:
            raise ValueError(f"bar at {d} ql is {nxt - d} ql long: not whole beats")
        k = 0
        while k * beat_ql < nxt - d - 1e-6:
            beats.append(d + k * beat_ql)
            k += 1
    return beats, downs


class TimeMap:
    """ql -> seconds: swing inside each beat, then a piecewise tempo map."""

    def __init__(self, beat_ql, bpm, changes, swing):
        self.beat_ql, self.swing = beat_ql, swing
        self.segs = [(0.0, bpm)] + list(changes)  # (ql where it starts, bpm)

    def swung(self, q):
        if not self.swing:
            return q
        b = self.beat_ql
        k, f = divmod(q, b)
        f /= b
        r = self.swing
        f = f / 0.5 * r if f < 0.5 else r + (f - 0.5) / 0.5 * (1 - r)
        return (k + f) * b

    def __call__(self, q):
        q = self.swung(q)
        t = 0.0
        for i, (start, bpm) in enumerate(self.segs):
            end = self.segs[i + 1][0] if i + 1 < len(self.segs) else float("inf")
            spb = 60.0 / bpm / self.beat_ql  # seconds per ql
            if q <= end:
                return t + (q - start) * spb
            t += (end - start) * spb
        return t


def loop_to(measures, events, total_ql, target_ql):
    """Repeat the piece (as players take the repeats) until target_ql."""
    # Each pass starts a whole number of bars after the last one's first
    # downbeat, so the grid runs on across the join; a pass whose last bar
    # does not complete its pickup ends on a held bar.
    off0, dur0, bar0 = measures[0]
    d0 = off0 + dur0 if dur0 < bar0 - 1e-6 else off0
    bar = measures[min(1, len(measures) - 1)][2]
    period = math.ceil((total_ql - d0) / bar + 1e-6) * bar
    m_out, e_out, shift = [], [], 0.0
    while shift < target_ql and total_ql > 0:
        for i, (off, dur, bar) in enumerate(measures):
            m_out.append((off + shift, dur, bar, i == 0 and dur < bar - 1e-6))
        e_out += [(on + shift, d, p, v, c) for on, d, p, v, c in events]
        shift += period
    return m_out, e_out


def write_midi(path, notes, programs):
    """notes: (onset s, end s, pitch, velocity, channel). 120 BPM, 960 ticks/s."""
    mid = mido.MidiFile(ticks_per_beat=480)
    tr = mido.MidiTrack()
    mid.tracks.append(tr)
    tr.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))
    for ch, prog in enumerate(programs):
        tr.append(mido.Message("program_change", channel=ch, program=prog, time=0))
    msgs = []
    for on, end, p, v, ch in notes:
        msgs.append((on, 1, mido.Message("note_on", channel=ch, note=p, velocity=v)))
        msgs.append((max(end, on + 0.02), 0, mido.Message("note_off", channel=ch, note=p, velocity=0)))
    msgs.sort(key=lambda x: (x[0], x[1]))
    last = 0
    for t, _, m in msgs:
        tick = int(round(t * 960))
        tr.append(m.copy(time=tick - last))
        last = tick
    mid.save(path)


def build(track):
    """Notes (seconds) and truth for one corpus track."""
    tid, cls, path, beat_ql, bpm, opt = track
    score = music21.corpus.parse(path)
    measures = measures_of(score)
    programs = opt.get("programs", [0])
    events = note_events(score, programs)
    start_bar = opt.get("start_bar", 1)
    if start_bar > 1:
        cut = measures[start_bar - 1][0]
        measures = [(o - cut, d, b) for o, d, b in measures[start_bar - 1 :]]
        events = [(on - cut, d, p, v, c) for on, d, p, v, c in events if on >= cut - 1e-6]
    total = measures[-1][0] + measures[-1][1]
    # Enough ql for the excerpt even at the fastest tempo of the map.
    fastest = max([bpm] + [b for _, b in opt.get("tempo", [])])
    target = (EXCERPT_S + opt.get("intro", 0.0)) * fastest / 60.0 * beat_ql + 8
    measures, events = loop_to(measures, events, total, target)
    changes = [(measures[bar - 1][0], b) for bar, b in opt.get("tempo", [])]
    tmap = TimeMap(beat_ql, bpm, changes, opt.get("swing"))
    beats, downs = beat_grid(measures, beat_ql)
    intro = opt.get("intro", 0.0)
    notes = []
    for on, d, p, v, c in events:
        t0, t1 = tmap(on), tmap(on + d)
        if t0 >= EXCERPT_S:
            continue
        if t0 < intro:
            if c != 0:
                continue
            v = 22  # the quiet intro: the melody alone, pianissimo
        notes.append((t0, min(t1, EXCERPT_S), p, v, c))
    if "drums" in opt:
        for off, dur, bar, _ in measures:
            if dur < bar - 1e-6:
                continue
            for pos, drum, vel in drum_hits(opt["drums"], bar, beat_ql):
                t = tmap(off + pos)
                if intro <= t < EXCERPT_S:
                    notes.append((t, t + 0.1, GM_DRUMS[drum], vel, 9))
    last = max(n[1] for n in notes)
    beats_s = [round(tmap(b), 4) for b in beats if tmap(b) <= min(last, EXCERPT_S)]
    downs_s = [round(tmap(b), 4) for b in downs if tmap(b) <= min(last, EXCERPT_S)]
    meter = round(measures[min(1, len(measures) - 1)][2] / beat_ql)
    assert len(beats_s) > 20, f"{tid}: only {len(beats_s)} beats"
    how = (
        f"beats every {beat_ql} quarter notes from the score's bar lines, through the tempo map"
        + (f" with swing (long = {opt['swing']:.2f} of the beat)" if opt.get("swing") else "")
        + (f"; tempo {bpm} then {opt['tempo']} at those bars" if opt.get("tempo") else f"; {bpm} BPM")
        + (f"; drums ({opt['drums']}) added by us on the grid" if opt.get("drums") else "")
        + (f"; first {intro:.0f} s the melody alone, pianissimo" if intro else "")
        + "; rendered with fluidsynth"
    )
    truth = {
        "id": tid,
        "class": cls,
        "source": f"music21 10.5.1 wheel (PyPI), corpus/{path}",
        "licence": CORPUS_LICENCE,
        "truth_method": how,
        "bpm": bpm,
        "meter": meter,
        "beats": beats_s,
        "downbeats": downs_s,
    }
    return notes, programs, truth


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def up_to_date(d, recipe):
    try:
        with open(os.path.join(d, "truth.json")) as f:
            t = json.load(f)
        return t.get("recipe") == recipe and sha256(os.path.join(d, "audio.ogg")) == t.get("audio_sha256")
    except (OSError, ValueError):
        return False


def encode(src, dst, extra=()):
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", *extra, "-i", src, "-t", f"{EXCERPT_S}", "-ac", "1",
         "-ar", str(SR), "-c:a", "libvorbis", "-q:a", "4", dst],
        check=True,
    )


def save(d, truth, recipe):
    truth["recipe"] = recipe
    truth["audio_sha256"] = sha256(os.path.join(d, "audio.ogg"))
    truth["duration_s"] = EXCERPT_S
    with open(os.path.join(d, "truth.json.part"), "w") as f:
        json.dump(truth, f)
    os.replace(os.path.join(d, "truth.json.part"), os.path.join(d, "truth.json"))


def render_corpus(out, sf2, track):
    d = os.path.join(out, track[0])
    recipe = hashlib.sha256(repr((track, EXCERPT_S, SR, os.path.basename(sf2), SCRIPT_SHA)).encode()).hexdigest()[:16]
    if up_to_date(d, recipe):
        return
    os.makedirs(d, exist_ok=True)
    notes, programs, truth = build(track)
    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = os.path.join(tmp, "t.mid"), os.path.join(tmp, "t.wav")
        write_midi(mid, notes, programs)
        subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.6", "-r", str(SR), "-F", wav, sf2, mid],
                       check=True, stdout=subprocess.DEVNULL)
        encode(wav, os.path.join(d, "audio.ogg"))
    save(d, truth, recipe)
    print(f"beat_truth: rendered {track[0]} ({len(truth['beats'])} beats)", file=sys.stderr)


def render_muldjord(out, mdir, name, bpm):
    src = os.path.join(mdir, name, "mix.ogg")
    if not os.path.isfile(src):
        print(f"beat_truth: skipping {name} ({src} missing; scripts/fixtures.sh tests)", file=sys.stderr)
        return False
    d = os.path.join(out, "metal_" + name.lower())
    recipe = f"muldjord-{name}-{bpm}-{EXCERPT_S}"
    if not up_to_date(d, recipe):
        os.makedirs(d, exist_ok=True)
        encode(src, os.path.join(d, "audio.ogg"))
        n = int(EXCERPT_S * bpm / 60.0) + 1
        save(d, {
            "id": "metal_" + name.lower(), "class": "rock_metal",
            "source": "Debian fretsonfire-songs-muldjord (song.ogg + guitar.ogg mixed), first 40 s",
            "licence": "CC BY-SA 3.0",
            "truth_method": f"the game chart's constant tempo ({bpm} BPM, beat 0 at t = 0), checked against the audio to ~10 ms; bar phase unknown",
            "bpm": bpm, "meter": 4,
            "beats": [round(k * 60.0 / bpm, 4) for k in range(n) if k * 60.0 / bpm < EXCERPT_S],
            "downbeats": None,
        }, recipe)
    return True


def main():
    out, sf2 = sys.argv[1], sys.argv[2]
    mdir = sys.argv[3] if len(sys.argv) > 3 else ""
    os.makedirs(out, exist_ok=True)
    ids = []
    for t in TRACKS:
        try:
            render_corpus(out, sf2, t)
            ids.append(t[0])
        except ValueError as e:
            shutil.rmtree(os.path.join(out, t[0]), ignore_errors=True)
            print(f"beat_truth: not using {t[0]}: {e}", file=sys.stderr)
    for name, bpm in MULDJORD:
        if mdir and render_muldjord(out, mdir, name, bpm):
            ids.append("metal_" + name.lower())
    # Fixed split: within each class, alternate tune / validation in id order.
    index, seen = [], {}
    for tid in sorted(ids):
        with open(os.path.join(out, tid, "truth.json")) as f:
            cls = json.load(f)["class"]
        k = seen.get(cls, 0)
        seen[cls] = k + 1
        index.append({"id": tid, "class": cls, "half": "tune" if k % 2 == 0 else "validation"})
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
    print(f"beat_truth: {len(index)} tracks in {out}", file=sys.stderr)
    if len(index) < 30:
        raise SystemExit("beat_truth: fewer than 30 tracks")


if __name__ == "__main__":
    main()
