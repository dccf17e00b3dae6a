"""Reads CineCut's exports with the real tools' own readers (OpenTimelineIO
0.18.1, pycmx) and prints what they hold as JSON for tests/export.rs;
checks what only the reader can see and exits non-zero, saying why, when a
check fails.

    python export_check.py otio FILE.otio
    python export_check.py edl FILE.edl RATE_NUM RATE_DEN
    python export_check.py fcpxml FILE.fcpxml
"""
import json
import sys
from fractions import Fraction


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def otio_summary(path):
    import opentimelineio as otio

    if otio.__version__ != "0.18.1":
        fail(f"opentimelineio {otio.__version__}, the tests pin 0.18.1")
    tl = otio.adapters.read_from_file(path)
    v1 = [t for t in tl.tracks if t.kind == otio.schema.TrackKind.Video][0]
    rate = tl.duration().rate
    clips, transitions, cuts = [], [], []
    prev = None
    for item in v1:
        if isinstance(item, otio.schema.Transition):
            transitions.append({
                "type": item.transition_type,
                "name": item.name,
                "in_offset": item.in_offset.value,
                "out_offset": item.out_offset.value,
                "at": v1.range_of_child(item).start_time.value,
            })
            prev = "transition"
            continue
        r = v1.range_of_child(item)
        sr = item.trimmed_range()
        url = item.media_reference.target_url if isinstance(item, otio.schema.Clip) else None
        c = {
            "name": item.name,
            "rec_start": r.start_time.value,
            "rec_frames": r.duration.value,
            "src_start": sr.start_time.value,
            "src_rate": sr.start_time.rate,
            "url": url,
            "film": bool(url) and not url.endswith(".png"),
        }
        if prev is not None and prev != "transition" and prev["film"] and c["film"]:
            cuts.append(c["rec_start"])
        clips.append(c)
        prev = c
    for tr in tl.tracks:
        if tr.kind == otio.schema.TrackKind.Audio:
            for item in tr:
                if isinstance(item, otio.schema.Clip) and not item.media_reference.target_url:
                    fail(f"audio clip {item.name} has no file")
    return {
        "rate": rate,
        "frames": tl.duration().value,
        "start": tl.global_start_time.value if tl.global_start_time else 0,
        "tracks": [(t.name, t.kind, t.duration().value) for t in tl.tracks],
        "clips": clips,
        "transitions": transitions,
        "hard_cuts": cuts,
        "markers": [(m.name, m.marked_range.start_time.value) for m in tl.tracks.markers],
    }


def tc_frames(tc, num, den):
    """Frames of a timecode; drop-frame (;) at 29.97/59.94 skips 2 (4)
    numbers a minute except each tenth."""
    base = round(num / den)
    h, m, s, f = (int(x) for x in tc.replace(";", ":").split(":"))
    frames = ((h * 60 + m) * 60 + s) * base + f
    if den == 1001 and base in (30, 60):
        drop = base // 15
        minutes = h * 60 + m
        frames -= drop * (minutes - minutes // 10)
    return frames


def edl_summary(path, num, den):
    import pycmx

    with open(path) as f:
        text = f.read()
    with open(path) as f:
        edl = pycmx.parse_cmx3600(f)
    drop = den == 1001 and round(num / den) in (30, 60)
    if ("FCM: DROP FRAME" in text) != drop:
        fail(f"FCM line wrong for {num}/{den}: {text.splitlines()[1]}")
    video = []
    for ev in edl.events:
        for e in ev.edits:
            if len(e.source) > 8:
                fail(f"event {ev.number}: reel {e.source!r} is over 8 characters")
            if e.channels.video:
                video.append((ev.number, e))
    # Record timecodes contiguous: every picture event starts where the one before ended.
    rec = []
    for n, e in video:
        if e.record_in != e.record_out or e.transition.kind != pycmx.Transition.Cut:
            rec.append((n, e))
    out = []
    last = None
    for n, e in rec:
        ri, ro = tc_frames(e.record_in, num, den), tc_frames(e.record_out, num, den)
        if last is not None and ri != last:
            fail(f"event {n}: record in {e.record_in} is not the last record out")
        if (";" in e.record_in) != drop:
            fail(f"event {n}: record {e.record_in} drop-frame marks wrong")
        last = ro
        if e.black:
            continue
        if not e.clip_name:
            fail(f"event {n}: no * FROM CLIP NAME")
        out.append({
            "event": n,
            "reel": e.source,
            "clip": e.clip_name,
            "dissolve": e.transition.kind == pycmx.Transition.Dissolve,
            "src_in": tc_frames(e.source_in, num, den) if not e.clip_name.endswith(".png") else None,
            "rec_in": ri,
            "rec_out": ro,
        })
    return {"events": out, "end": last}


def fcpxml_summary(path):
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()
    if root.tag != "fcpxml" or root.get("version") != "1.10":
        fail(f"root {root.tag} version {root.get('version')}")
    res = {e.get("id"): e for e in root.find("resources")}
    seq = root.find(".//sequence")
    fmt = res[seq.get("format")]
    frame = Fraction(fmt.get("frameDuration").rstrip("s"))
    def t(v):
        return Fraction(v.rstrip("s")) if v else Fraction(0)
    for e in root.iter():
        for a in ("ref",):
            if e.get(a) and e.get(a) not in res:
                fail(f"<{e.tag} {a}={e.get(a)}> names no resource")
        for a in ("offset", "duration"):
            if e.get(a) is not None and e.tag not in ("asset",) and (t(e.get(a)) / frame).denominator != 1:
                fail(f"<{e.tag} {a}={e.get(a)}> is not a whole number of {frame} s frames")
        if e.tag == "asset-clip" and e.get("start"):
            af = res[e.get("ref")].get("format")
            fd = Fraction(res[af].get("frameDuration").rstrip("s")) if af and res[af].get("frameDuration") else frame
            if (t(e.get("start")) / fd).denominator != 1:
                fail(f"<asset-clip start={e.get('start')}> is not on a frame of its media")
    spine = seq.find("spine")
    end = Fraction(0)
    pos = Fraction(0)
    clips = []
    for e in spine:
        off, dur = t(e.get("offset")), t(e.get("duration"))
        if e.tag == "transition":
            continue
        if off != pos:
            fail(f"spine item {e.get('name')} at {off}, the one before ended at {pos}")
        pos = off + dur
        clips.append({"name": e.get("name"), "offset": int(off / frame), "frames": int(dur / frame),
                      "start": float(t(e.get("start")))})
    end = pos
    if t(seq.get("duration")) != end:
        fail(f"sequence duration {seq.get('duration')} but the spine ends at {end}")
    for rep in root.iter("media-rep"):
        if not rep.get("src", "").startswith("file:///"):
            fail(f"media-rep src {rep.get('src')} is not an absolute file URL")
    return {"frames": int(end / frame), "clips": clips,
            "transitions": [e.get("name") for e in spine if e.tag == "transition"]}


if __name__ == "__main__":
    kind, path = sys.argv[1], sys.argv[2]
    if kind == "otio":
        print(json.dumps(otio_summary(path)))
    elif kind == "edl":
        print(json.dumps(edl_summary(path, int(sys.argv[3]), int(sys.argv[4]))))
    elif kind == "fcpxml":
        print(json.dumps(fcpxml_summary(path)))
    else:
        fail(f"unknown kind {kind}")
