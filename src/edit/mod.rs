//! The editor: turns what we know about the film into a three-act timeline.
//!
//! Pure logic (no I/O): cold open → act 1 → act 2 → silence beat → act 3
//! montage → title card → button. Each act draws its clips from its part of
//! the story, at the vibe's pace, never across a shot boundary, never from the
//! same shot twice, never past the spoiler line.

pub mod in_points;
pub mod snap;
pub mod voiceover;

use crate::analysis::Shot;
use crate::manifest::{Act, Card, Clip, Item};
use crate::story::board::{ShotCard, Storyboard};
use crate::story::structure::Structure;
use crate::story::zones::Zone;
use crate::subtitles::{Cue, CueKind};
use crate::vibes::{Transition, Vibe};

/// The film gain of a clip whose sound would cut words: silent in the mix.
pub use crate::manifest::MUTED_DB;

pub struct EditInput<'a> {
    pub shots: &'a [Shot],
    pub flashes: &'a [f64],
    pub cues: &'a [Cue],
    pub structure: &'a Structure,
    pub vibe: &'a Vibe,
    pub runtime_s: f64,
    pub fps: f64,
    pub target_length_s: f64,
    pub spoiler_line_s: f64,
    pub title: String,
    /// End card text after the button (empty: no end card).
    pub end_card: String,
    /// Zones, scores and beat types per shot (by shot index), when made.
    pub board: Option<&'a Storyboard>,
}

pub struct Edit {
    pub timeline: Vec<Item>,
    /// Per timeline item, the room a clip has for beat snapping (None: card).
    pub rooms: Vec<Option<snap::Room>>,
    pub notes: Vec<String>,
}

const TITLE_S: f64 = 3.5;
const SILENCE_S: f64 = 3.0;
const BUTTON_S: f64 = 2.5;
const END_CARD_S: f64 = 2.5;

/// A shot as the editor sees it: where it is, how strong it is, what it says.
#[derive(Clone, Debug)]
struct Candidate {
    shot: usize,
    start: f64,
    end: f64,
    score: f64,
    calm: f64,
    zone: Option<Zone>,
}

/// The three-act timeline for the film: each act of the trailer in turn,
/// drawn from the candidates the shots make.
pub fn assemble(inp: &EditInput) -> Edit {
    let mut a = Assembly::new(inp);
    a.cold_open();
    a.act(0);
    a.act(1);
    a.silence_beat();
    a.act(2);
    a.title_card();
    a.button();
    a.end_card();
    a.into_edit()
}

/// The acts the body of the trailer is made of, in order.
const BODY_ACTS: [Act; 3] = [Act::Act1, Act::Act2, Act::Act3];

/// The timeline as it grows, and the plan it follows: the candidates, each
/// act's pace, seconds and part of the film, and the shots already used.
struct Assembly<'a> {
    inp: &'a EditInput<'a>,
    /// Clips keep clear of shot boundaries and flashes by this much.
    margin: f64,
    cands: Vec<Candidate>,
    /// The vibe's average cut per body act.
    pace: [f64; 3],
    /// Seconds of the trailer's body per body act.
    shares: [f64; 3],
    /// Where in the film (seconds) each body act draws its shots from.
    ranges: [(f64, f64); 3],
    /// The end card's length (0: no end card).
    end_card_s: f64,
    used: Vec<bool>,
    timeline: Vec<Item>,
    rooms: Vec<Option<snap::Room>>,
    notes: Vec<String>,
}

impl<'a> Assembly<'a> {
    fn new(inp: &'a EditInput<'a>) -> Self {
        let margin = 6.0 / inp.fps; // keep clear of boundaries and flashes by 6 frames
        let r = inp.runtime_s;
        let st = inp.structure;
        let spoiler = inp.spoiler_line_s.min(r);
        let pace = inp.vibe.act_cut_s;
        let end_card_s = if inp.end_card.trim().is_empty() {
            0.0
        } else {
            END_CARD_S
        };
        let fixed = TITLE_S + SILENCE_S + BUTTON_S + end_card_s + pace[0];
        let body = (inp.target_length_s - fixed).max(pace[0] * 3.0);
        Assembly {
            inp,
            margin,
            cands: candidates(inp, spoiler, margin),
            pace,
            shares: split_body(body, pace, inp.vibe.clips),
            ranges: [
                (0.02 * r, (st.begin_t + st.escalation_t) / 2.0),
                (st.begin_t, st.climax_t.min(spoiler)),
                (st.escalation_t, spoiler),
            ],
            end_card_s,
            used: vec![false; inp.shots.len()],
            timeline: Vec::new(),
            rooms: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Cold open: the strongest moment of the middle of the film, as a hook.
    fn cold_open(&mut self) {
        let (lo, hi) = self.ranges[1];
        let min_len = self.pace[0] + 2.0 * self.margin;
        if let Some(c) = best(&self.cands, &self.used, lo, hi, min_len, |c| c.score) {
            self.place(
                &c,
                Act::ColdOpen,
                self.pace[0],
                (Transition::HardCut, 0.0),
                "cold open: the strongest shot of the escalation, as a hook",
            );
        }
    }

    /// The silence beat: a calm shot held before the act 3 montage.
    fn silence_beat(&mut self) {
        let (lo, hi) = self.ranges[2];
        let min_len = SILENCE_S + 2.0 * self.margin;
        if let Some(c) = best(&self.cands, &self.used, lo, hi, min_len, |c| c.calm) {
            self.place(
                &c,
                Act::SilenceBeat,
                SILENCE_S,
                (Transition::FadeToBlack, 0.5),
                "silence beat: the calmest shot before the climax, held in near silence",
            );
        }
    }

    /// Body act `a` (0-2): its share of the body in clips at the act's pace,
    /// act 1 in film order, the others building to their strongest shot.
    fn act(&mut self, a: usize) {
        let act = BODY_ACTS[a];
        let n = ((self.shares[a] / self.pace[a]).round() as usize).max(1);
        let min_len = self.pace[a] * 0.7 + 2.0 * self.margin;
        let mut picked = self.pick_for_act(a, n, min_len);
        match act {
            Act::Act1 => picked.sort_by(|x, y| x.start.total_cmp(&y.start)),
            _ => picked.sort_by(|x, y| x.score.total_cmp(&y.score)),
        }
        for (k, c) in picked.iter().enumerate() {
            let transition = transition_for(self.inp.vibe, act, k == 0);
            // Cut lengths vary around the act's average so the rhythm breathes.
            let wobble = [1.0, 0.8, 1.2, 0.9, 1.1][k % 5];
            let why = format!(
                "{}: score {:.2} at {:.0}% of the film",
                act_name(act),
                c.score,
                100.0 * c.start / self.inp.runtime_s
            );
            self.place(c, act, self.pace[a] * wobble, transition, &why);
        }
    }

    /// Zone-first: body act `a` takes the shots whose content matched its
    /// zone, spread over where those shots lie; positions in its part of the
    /// film fill any gap. A shortfall is noted.
    fn pick_for_act(&mut self, a: usize, n: usize, min_len: f64) -> Vec<Candidate> {
        let want = [Zone::Beginning, Zone::Escalation, Zone::Climax][a];
        let zoned: Vec<Candidate> = self
            .cands
            .iter()
            .filter(|c| c.zone == Some(want))
            .cloned()
            .collect();
        let mut picked = if zoned.is_empty() {
            Vec::new()
        } else {
            let zlo = zoned.iter().map(|c| c.start).fold(f64::INFINITY, f64::min);
            let zhi = zoned.iter().map(|c| c.start).fold(0.0, f64::max) + 1e-3;
            pick_spread(&zoned, &self.used, zlo, zhi, n, min_len)
        };
        let (lo, hi) = self.ranges[a];
        if picked.len() < n {
            let mut taken = self.used.clone();
            for c in &picked {
                taken[c.shot] = true;
            }
            picked.extend(pick_spread(
                &self.cands,
                &taken,
                lo,
                hi,
                n - picked.len(),
                min_len,
            ));
        }
        if picked.len() < n {
            self.notes.push(format!(
                "{:?}: only {} of {n} clips found in {lo:.0}-{hi:.0} s",
                BODY_ACTS[a],
                picked.len()
            ));
        }
        picked
    }

    fn title_card(&mut self) {
        let title = self.inp.title.clone();
        self.card(Act::Title, title, TITLE_S, 0.6);
    }

    /// Button: one last beat after the title, from the first half (no spoilers).
    fn button(&mut self) {
        let cues = self.inp.cues;
        let (lo, hi) = (0.05 * self.inp.runtime_s, self.inp.structure.escalation_t);
        let min_len = BUTTON_S + 2.0 * self.margin;
        let key = |c: &Candidate| c.score * 0.5 + cue_intensity(cues, c.start, c.end);
        if let Some(c) = best(&self.cands, &self.used, lo, hi, min_len, key) {
            self.place(
                &c,
                Act::Button,
                BUTTON_S,
                (Transition::FadeToBlack, 0.4),
                "button: a last beat after the title",
            );
        }
    }

    /// End card: the release line, after the button, out of black.
    fn end_card(&mut self) {
        if self.end_card_s > 0.0 {
            let text = self.inp.end_card.trim().to_string();
            self.card(Act::EndCard, text, self.end_card_s, 0.4);
        }
    }

    /// Cuts candidate `c` into a clip of about `want` seconds at the end of
    /// the timeline; its shot is used up.
    fn place(
        &mut self,
        c: &Candidate,
        act: Act,
        want: f64,
        transition: (Transition, f64),
        why: &str,
    ) {
        self.used[c.shot] = true;
        let (clip, room) = make_clip(self.inp, c, act, want, self.margin, transition, why);
        self.timeline.push(Item::Clip(clip));
        self.rooms.push(Some(room));
    }

    /// A card faded in from black.
    fn card(&mut self, act: Act, text: String, duration_s: f64, transition_s: f64) {
        self.rooms.push(None);
        self.timeline.push(Item::Card(Card {
            act,
            text,
            duration_s,
            transition: Transition::FadeToBlack,
            transition_s,
        }));
    }

    fn into_edit(self) -> Edit {
        Edit {
            timeline: self.timeline,
            rooms: self.rooms,
            notes: self.notes,
        }
    }
}

/// Every shot long enough for a clip clear of its margins, scored: the
/// storyboard's eight-signal money-shot score when there is one, else a
/// plain mix of what the analysis measured. Shots end at the spoiler line.
fn candidates(inp: &EditInput, spoiler: f64, margin: f64) -> Vec<Candidate> {
    inp.shots
        .iter()
        .map(|s| {
            let sg = &s.signals;
            let emo = cue_intensity(inp.cues, s.start_s, s.end_s);
            let card = board_card(inp.board, s.index);
            let score = match card {
                Some(c) => c.score as f64,
                None => {
                    0.30 * sg.motion
                        + 0.20 * sg.contrast
                        + 0.20 * sg.uniqueness
                        + 0.10 * sg.saturation
                        + 0.20 * emo
                }
            };
            Candidate {
                zone: card.map(|c| c.zone),
                shot: s.index,
                start: s.start_s,
                end: s.end_s.min(spoiler),
                score,
                calm: 1.0 - sg.motion,
            }
        })
        .filter(|c| c.end - c.start > 2.0 * margin + 0.5)
        .collect()
}

/// The storyboard's card for a shot, when there is a storyboard.
fn board_card(board: Option<&Storyboard>, shot: usize) -> Option<&ShotCard> {
    board.and_then(|b| b.cards.iter().find(|c| c.shot_index == shot))
}

fn zone_name(z: Zone) -> &'static str {
    match z {
        Zone::Beginning => "beginning",
        Zone::Escalation => "escalation",
        Zone::Climax => "climax",
    }
}

fn act_name(a: Act) -> &'static str {
    match a {
        Act::ColdOpen => "cold open",
        Act::Act1 => "act 1 setup",
        Act::Act2 => "act 2 escalation",
        Act::SilenceBeat => "silence beat",
        Act::Act3 => "act 3 montage",
        Act::Title => "title",
        Act::Button => "button",
        Act::EndCard => "end card",
    }
}

/// Splits the body's seconds across the three acts so that, at each act's
/// pace, the clip count lands inside the vibe's range when it can without
/// unbalancing the acts.
fn split_body(body: f64, pace: [f64; 3], clips: [u32; 2]) -> [f64; 3] {
    let mut s = [0.38, 0.36, 0.26];
    let count = |s: &[f64; 3]| (0..3).map(|i| body * s[i] / pace[i]).sum::<f64>() + 3.0;
    for _ in 0..200 {
        let n = count(&s);
        // Bounded so that no act swallows the trailer: past these shares the
        // pace wins over the clip count (a BBB demo had act 1 at 65 %).
        if n > clips[1] as f64 && s[2] > 0.18 && s[0] < 0.46 {
            s[2] -= 0.01;
            s[0] += 0.01;
        } else if n > clips[1] as f64 && s[1] > 0.30 && s[0] < 0.46 {
            s[1] -= 0.01;
            s[0] += 0.01;
        } else if n < clips[0] as f64 && s[0] > 0.2 {
            s[0] -= 0.01;
            s[2] += 0.01;
        } else {
            break;
        }
    }
    [body * s[0], body * s[1], body * s[2]]
}

fn transition_for(v: &Vibe, act: Act, first_of_act: bool) -> (Transition, f64) {
    let [primary, secondary] = v.transitions;
    let t = if first_of_act {
        secondary
    } else if act == Act::Act3 {
        Transition::HardCut
    } else {
        primary
    };
    let d = match t {
        Transition::Crossfade => {
            if act == Act::Act1 {
                0.5
            } else {
                0.3
            }
        }
        Transition::FadeToBlack | Transition::FadeToWhite => 0.4,
        _ => 0.0,
    };
    (t, d)
}

fn cue_intensity(cues: &[Cue], a: f64, b: f64) -> f64 {
    cues.iter()
        .filter(|c| c.kind == CueKind::Dialogue && c.start_s < b && c.end_s > a)
        .map(|c| c.emotion.intensity as f64)
        .fold(0.0, f64::max)
}

fn best(
    cands: &[Candidate],
    used: &[bool],
    lo: f64,
    hi: f64,
    min_len: f64,
    key: impl Fn(&Candidate) -> f64,
) -> Option<Candidate> {
    cands
        .iter()
        .filter(|c| !used[c.shot] && c.start >= lo && c.start < hi && c.end - c.start >= min_len)
        .max_by(|a, b| key(a).total_cmp(&key(b)))
        .cloned()
}

/// Picks `n` strong shots spread over [lo, hi): the range is cut into `n`
/// slices and each slice gives its best unused shot, so an act tells its part
/// of the story instead of clustering on one loud scene.
fn pick_spread(
    cands: &[Candidate],
    used: &[bool],
    lo: f64,
    hi: f64,
    n: usize,
    min_len: f64,
) -> Vec<Candidate> {
    let mut taken = used.to_vec();
    let mut out = Vec::new();
    let w = (hi - lo) / n as f64;
    for k in 0..n {
        let (a, b) = (lo + k as f64 * w, lo + (k + 1) as f64 * w);
        if let Some(c) = best(cands, &taken, a, b, min_len, |c| c.score) {
            taken[c.shot] = true;
            out.push(c);
        }
    }
    // Slices with no usable shot: fill from anywhere in the range.
    while out.len() < n {
        match best(cands, &taken, lo, hi, min_len, |c| c.score) {
            Some(c) => {
                taken[c.shot] = true;
                out.push(c);
            }
            None => break,
        }
    }
    out
}

/// The longest stretch of [lo, hi] with no spoken cue (padded by 0.1 s), if
/// it can hold `len` seconds.
fn quiet_gap(cues: &[Cue], lo: f64, hi: f64, len: f64) -> Option<(f64, f64)> {
    let mut spans: Vec<(f64, f64)> = cues
        .iter()
        .filter(|c| c.kind == CueKind::Dialogue && c.start_s < hi && c.end_s > lo)
        .map(|c| (c.start_s - 0.1, c.end_s + 0.1))
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut best: Option<(f64, f64)> = None;
    let mut at = lo;
    for (a, b) in spans.iter().copied().chain(std::iter::once((hi, hi))) {
        let gap = (at, a.min(hi));
        if gap.1 - gap.0 >= len && best.is_none_or(|x| gap.1 - gap.0 > x.1 - x.0) {
            best = Some(gap);
        }
        at = at.max(b);
    }
    best
}

/// Cuts candidate `c` into a clip of about `want` seconds: a dialogue line
/// that fits the shot is taken whole; otherwise the clip sits in the middle
/// of the shot (in a pause between lines when there is one long enough),
/// clear of flashes, on whole frames. Returns the clip and the room beat
/// snapping may move it in.
fn make_clip(
    inp: &EditInput,
    c: &Candidate,
    act: Act,
    want: f64,
    margin: f64,
    transition: (Transition, f64),
    why: &str,
) -> (Clip, snap::Room) {
    let fps = inp.fps;
    let lo = c.start + margin;
    let hi = c.end - margin;
    let len = want.min(hi - lo).max(0.5);
    let cue = whole_cue(inp.cues, lo, hi, len);
    let room = sound_room(inp.cues, cue, lo, hi, len);
    let kept = cue.map(|q| room.line_span(q));
    let (a, b) = kept.unwrap_or_else(|| room.middle(len));
    let (a, b) = clear_of_flashes(inp.flashes, a, b, margin);
    // Snap both ends to frame starts so the render is frame-exact.
    let a = (a * fps).ceil() / fps;
    let b = (b * fps).floor() / fps;
    let (transition, transition_s) = if transition.1 > (b - a) / 2.0 {
        (Transition::HardCut, 0.0)
    } else {
        transition
    };
    let mut clip = Clip {
        act,
        source_in_s: a,
        source_out_s: b,
        transition,
        transition_s,
        shot_index: Some(c.shot),
        zone: Some(act_zone(act).into()),
        beat_type: None,
        dialogue: cue.map(|q| q.text.clone()),
        film_gain_db: film_gain_db(act, room.mute),
        sound_tail_s: 0.0,
        decode_from_s: None,
        score: (c.score * 1000.0).round() / 1000.0,
        reasoning: why.to_string(),
    };
    // The storyboard knows the shot's zone and beat type, and why.
    if let Some(card) = board_card(inp.board, c.shot) {
        clip.zone = Some(zone_name(card.zone).into());
        clip.beat_type = Some(card.beat_type.clone());
        clip.reasoning = format!("{why}; {}", card.reasoning);
    }
    let room = snap::Room {
        lo: room.lo,
        hi: room.hi,
        keep: kept,
    };
    (clip, room)
}

/// A dialogue cue that fits inside the shot's usable [lo, hi] with its
/// margins, and is not much longer than the clip wants to be.
fn whole_cue(cues: &[Cue], lo: f64, hi: f64, len: f64) -> Option<&Cue> {
    cues.iter().find(|q| {
        q.kind == CueKind::Dialogue
            && q.start_s - 0.1 >= lo
            && q.end_s + 0.2 <= hi
            && q.end_s - q.start_s <= len * 2.0
    })
}

/// Where in its shot a clip may lie without chopping anyone's words, and
/// whether its film sound must be muted to get there.
struct SoundRoom {
    lo: f64,
    hi: f64,
    mute: bool,
}

impl SoundRoom {
    /// A cue's line with its margins (0.1 s before, 0.2 s after), inside the
    /// room.
    fn line_span(&self, q: &Cue) -> (f64, f64) {
        ((q.start_s - 0.1).max(self.lo), (q.end_s + 0.2).min(self.hi))
    }

    /// `len` seconds (or the whole room, if shorter) around its middle.
    fn middle(&self, len: f64) -> (f64, f64) {
        let mid = (self.lo + self.hi) / 2.0;
        let l = len.min(self.hi - self.lo);
        (mid - l / 2.0, mid + l / 2.0)
    }
}

/// The room for a clip in [lo, hi]: a line's clip may grow only into the
/// pauses around its cue, never into the neighbouring lines; a clip without
/// a line sits in a pause between cues when the shot has one long enough,
/// and otherwise its film sound is muted (the music carries it).
fn sound_room(cues: &[Cue], cue: Option<&Cue>, lo: f64, hi: f64, len: f64) -> SoundRoom {
    let ((lo, hi), mute) = match cue {
        Some(q) => (pauses_around(cues, q, lo, hi), false),
        None => match quiet_gap(cues, lo, hi, len) {
            Some(gap) => (gap, false),
            None => ((lo, hi), true),
        },
    };
    SoundRoom { lo, hi, mute }
}

/// [lo, hi] narrowed to end 20 ms clear of the dialogue cues before and
/// after cue `q` (or at `q`'s own edges, where a neighbour overlaps it).
fn pauses_around(cues: &[Cue], q: &Cue, lo: f64, hi: f64) -> (f64, f64) {
    let (mut lo, mut hi) = (lo, hi);
    for c in cues
        .iter()
        .filter(|c| c.kind == CueKind::Dialogue && c.index != q.index)
    {
        if c.end_s <= q.start_s + 1e-6 || (c.start_s < q.start_s && c.end_s > q.start_s) {
            lo = lo.max((c.end_s + 0.02).min(q.start_s - 0.02));
        }
        if c.start_s >= q.end_s - 1e-6 || (c.start_s > q.start_s && c.start_s < q.end_s) {
            hi = hi.min((c.start_s - 0.02).max(q.end_s + 0.02));
        }
    }
    (lo, hi)
}

/// Moves a clip's edges `margin` clear of any flash near them, keeping at
/// least half a second.
fn clear_of_flashes(flashes: &[f64], a: f64, b: f64, margin: f64) -> (f64, f64) {
    let (mut a, mut b) = (a, b);
    for f in flashes {
        if (*f - a).abs() < margin {
            a = (f + margin).min(b - 0.5);
        }
        if (*f - b).abs() < margin {
            b = (f - margin).max(a + 0.5);
        }
    }
    (a, b)
}

/// The story zone an act's clips come from, when no storyboard says.
fn act_zone(act: Act) -> &'static str {
    match act {
        Act::Act1 | Act::Button => "beginning",
        Act::Act2 | Act::ColdOpen => "escalation",
        _ => "climax",
    }
}

/// A clip's film sound: muted where it would cut words, low under the
/// silence beat, else as in the film.
fn film_gain_db(act: Act, mute: bool) -> f64 {
    if mute {
        MUTED_DB
    } else if act == Act::SilenceBeat {
        -18.0
    } else {
        0.0
    }
}

/// A plain clip for the editor's unit tests.
#[cfg(test)]
pub(crate) fn test_clip(
    act: Act,
    a: f64,
    b: f64,
    transition: Transition,
    transition_s: f64,
) -> Item {
    Item::Clip(Clip {
        act,
        source_in_s: a,
        source_out_s: b,
        transition,
        transition_s,
        shot_index: None,
        zone: None,
        beat_type: None,
        dialogue: None,
        film_gain_db: 0.0,
        sound_tail_s: 0.0,
        decode_from_s: None,
        score: 0.0,
        reasoning: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Signals;
    use crate::story::structure::{builtin_structure, StructureInput};

    fn shots(n: usize, len: f64) -> Vec<Shot> {
        (0..n)
            .map(|i| Shot {
                index: i,
                start_s: i as f64 * len,
                end_s: (i + 1) as f64 * len,
                start_frame: (i as f64 * len * 24.0) as u64,
                end_frame: ((i + 1) as f64 * len * 24.0) as u64,
                keyframe_s: (i as f64 + 0.5) * len,
                signals: Signals {
                    motion: ((i * 7) % 10) as f64 / 10.0,
                    contrast: ((i * 3) % 10) as f64 / 10.0,
                    ..Default::default()
                },
                raw: Default::default(),
            })
            .collect()
    }

    #[test]
    fn three_acts_inside_shots_before_spoiler_line() {
        let sh = shots(150, 4.0);
        let st = builtin_structure(&StructureInput {
            runtime_s: 600.0,
            ..Default::default()
        });
        let vibe = crate::vibes::get("action").unwrap();
        let e = assemble(&EditInput {
            shots: &sh,
            flashes: &[],
            cues: &[],
            structure: &st,
            vibe: &vibe,
            runtime_s: 600.0,
            fps: 24.0,
            target_length_s: 120.0,
            spoiler_line_s: 510.0,
            title: "T".into(),
            end_card: "COMING SOON".into(),
            board: None,
        });
        let clips: Vec<&Clip> = e
            .timeline
            .iter()
            .filter_map(|i| match i {
                Item::Clip(c) => Some(c),
                _ => None,
            })
            .collect();
        assert!(clips.len() >= 20, "{}", clips.len());
        let mut seen = std::collections::HashSet::new();
        for c in &clips {
            let s = &sh[c.shot_index.unwrap()];
            assert!(
                c.source_in_s >= s.start_s && c.source_out_s <= s.end_s,
                "{c:?}"
            );
            assert!(c.source_out_s <= 510.0);
            assert!(seen.insert(c.shot_index), "shot used twice");
        }
        let mean = |a: Act| {
            let v: Vec<f64> = clips
                .iter()
                .filter(|c| c.act == a)
                .map(|c| c.source_out_s - c.source_in_s)
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        assert!(mean(Act::Act1) > mean(Act::Act2) && mean(Act::Act2) > mean(Act::Act3));
        assert!(e
            .timeline
            .iter()
            .any(|i| matches!(i, Item::Card(c) if c.act == Act::Title)));
        assert!(
            matches!(e.timeline.last(), Some(Item::Card(c)) if c.act == Act::EndCard && c.text == "COMING SOON")
        );
    }
}
