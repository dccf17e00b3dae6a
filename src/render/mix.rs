//! The sound pass's mix of the four stems: the film sound of the clips
//! (stepping back under voice-over), the music (ducked under speech by a
//! sidechain compressor, hushed in the silence beat), the transition sound
//! effects and the voice-over lines with the split edits' tails.

use super::graph::Graph;
use super::{num, AUDIO_RATE};
use crate::manifest::{Act, Item, Manifest, MusicRef, SoundOverlay};
use crate::media::process::file_arg;
use std::ffi::OsString;
use std::path::Path;

/// Mixes the four stems — film sound `film`, music, sound effects and
/// voice-over — into one; returns the label of the mix.
pub(super) fn mix_stems(m: &Manifest, g: &mut Graph, film: &str, film_path: &Path) -> String {
    let mut mix = StemMix::new(m, g);
    let vo = mix.lay_voice_over(&file_arg(film_path));
    mix.lay_film_sound(film, vo.is_some());
    match &m.music {
        Some(mu) => mix.lay_music(mu, vo),
        None => mix.without_music(vo),
    }
    mix.lay_sound_effects();
    mix.finish()
}

/// `between(t,a,b)+...` for an enable expression over trailer-time spans;
/// callers wrap it in single quotes, which keep its commas literal.
fn spans_expr(spans: &[(f64, f64)]) -> String {
    spans
        .iter()
        .map(|(a, b)| format!("between(t,{},{})", num(*a), num(*b)))
        .collect::<Vec<_>>()
        .join("+")
}

/// One timeline item in trailer time, as the music's ducking sees it.
struct Span {
    act: Act,
    /// A clip with dialogue: its film sound is speech.
    speech: bool,
    start_s: f64,
    end_s: f64,
}

/// The mix under construction: the stems laid so far, in mix order.
struct StemMix<'a> {
    m: &'a Manifest,
    g: &'a mut Graph,
    total_s: f64,
    total_samples: u64,
    /// The split edits' tails (see [`Manifest::sound_tails`]).
    tails: Vec<SoundOverlay>,
    stems: Vec<String>,
}

/// The label of the voice-over stem, when there is one.
const VOICE_OVER: &str = "vomix";

impl<'a> StemMix<'a> {
    fn new(m: &'a Manifest, g: &'a mut Graph) -> Self {
        let total_s = m.total_duration_s();
        StemMix {
            m,
            g,
            total_s,
            total_samples: (total_s * AUDIO_RATE as f64).round() as u64,
            tails: m.sound_tails(),
            stems: Vec::new(),
        }
    }

    fn spans(&self) -> Vec<Span> {
        let starts = self.m.item_starts();
        self.m
            .timeline
            .iter()
            .zip(&starts)
            .map(|(it, s)| Span {
                act: it.act(),
                speech: matches!(it, Item::Clip(c) if c.dialogue.is_some()),
                start_s: *s,
                end_s: s + it.duration_s(),
            })
            .collect()
    }

    /// Lays a stretch of film sound into the graph as `[label]`: cut from the
    /// film, faded in and out (80 ms), at its level, delayed to its place.
    fn lay_overlay(&mut self, film_arg: &OsString, o: &SoundOverlay, label: &str) {
        let k = self.g.input(vec![
            "-vn".into(),
            "-ss".into(),
            num(o.source_in_s.max(0.0)).into(),
            "-t".into(),
            num(o.len_s + 0.5).into(),
            "-i".into(),
            film_arg.clone(),
        ]);
        let delay = (o.at_s.max(0.0) * AUDIO_RATE as f64).round() as u64;
        self.g.chains.push(format!(
            "[{k}:a:0]aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,atrim=duration={},asetpts=N/SR/TB,afade=t=in:d={},afade=t=out:st={}:d=0.08,volume={}dB,adelay={delay}S:all=1[{label}]",
            num(o.len_s),
            num(o.fade_in_s),
            num((o.len_s - 0.08).max(0.0)),
            num(o.gain_db)
        ));
    }

    /// Voice-over lines, each cut from the film and placed. Split edits: a
    /// line's sound runs on under the next item, its fade-in mirroring the
    /// clip's own fade-out so the two halves of the line add up seamlessly.
    /// Returns the voice-over stem's label (not yet in the mix), if any.
    fn lay_voice_over(&mut self, film_arg: &OsString) -> Option<&'static str> {
        let lines: Vec<(&str, SoundOverlay)> = self
            .m
            .voice_over
            .iter()
            .map(|v| ("vo", v.overlay()))
            .chain(self.tails.iter().map(|t| ("tail", *t)))
            .collect();
        let mut labels = Vec::new();
        for (j, (kind, o)) in lines.iter().enumerate() {
            let label = format!("{kind}{j}");
            self.lay_overlay(film_arg, o, &label);
            labels.push(format!("[{label}]"));
        }
        if labels.is_empty() || !self.m.film.has_audio {
            return None;
        }
        self.g.chains.push(format!(
            "{}amix=inputs={}:normalize=0:duration=longest,apad,atrim=end_sample={}[{VOICE_OVER}]",
            labels.join(""),
            labels.len(),
            self.total_samples
        ));
        Some(VOICE_OVER)
    }

    /// The film sound `[film]` as a stem, stepping back under the voice-over;
    /// a copy `[filmsc]` goes to the music's sidechain.
    fn lay_film_sound(&mut self, film: &str, with_voice_over: bool) {
        let film_duck = if with_voice_over {
            let vo_spans: Vec<(f64, f64)> = self
                .m
                .voice_over
                .iter()
                .map(|v| (v.at_s, v.at_s + v.source_out_s - v.source_in_s))
                .chain(
                    self.tails
                        .iter()
                        .map(|t| (t.at_s + t.fade_in_s, t.at_s + t.len_s)),
                )
                .collect();
            format!(",volume=0.3:enable='{}'", spans_expr(&vo_spans))
        } else {
            String::new()
        };
        self.g.chains.push(format!(
            "[{film}]asetpts=N/SR/TB{film_duck},asplit=2[filmout][filmsc]"
        ));
        self.stems.push("[filmout]".into());
    }

    /// The music as a stem: ends where the manifest says (a phrase
    /// boundary), with a short release rather than a long fade unless the
    /// trailer ends first; hushed in the silence beat; ducked under speech.
    fn lay_music(&mut self, mu: &MusicRef, vo: Option<&str>) {
        let total = self.total_s;
        let k = self.g.input(vec![
            "-ss".into(),
            num(mu.in_s).into(),
            "-t".into(),
            num(total + 1.0).into(),
            "-i".into(),
            file_arg(&mu.path),
        ]);
        let spans = self.spans();
        let silence: Vec<(f64, f64)> = spans
            .iter()
            .filter(|s| s.act == Act::SilenceBeat)
            .map(|s| (s.start_s, s.end_s))
            .collect();
        let hush = if silence.is_empty() {
            String::new()
        } else {
            format!(",volume=0.08:enable='{}'", spans_expr(&silence))
        };
        let fade = 2.0f64.min(total / 4.0);
        let play = (mu.out_s - mu.in_s).min(total - mu.at_s).max(0.1);
        let delay = (mu.at_s * 1000.0).round() as u64;
        self.g.chains.push(format!(
            "[{k}:a:0]aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,atrim=duration={},afade=t=in:d=0.03,afade=t=out:st={}:d=0.25,adelay={delay}:all=1,apad,atrim=end_sample={},asetpts=N/SR/TB,volume={}dB{hush},afade=t=out:st={}:d={}[music0]",
            num(play),
            num((play - 0.25).max(0.0)),
            self.total_samples,
            num(mu.gain_db),
            num(total - fade),
            num(fade)
        ));
        self.duck_music_under_speech(&spans, vo);
    }

    /// `[music0]` through a sidechain compressor that hears speech only:
    /// the film sound of dialogue clips, and the voice-over.
    fn duck_music_under_speech(&mut self, spans: &[Span], vo: Option<&str>) {
        let quiet: Vec<(f64, f64)> = spans
            .iter()
            .filter(|s| !s.speech)
            .map(|s| (s.start_s, s.end_s))
            .collect();
        let gate = if quiet.is_empty() {
            "anull".to_string()
        } else {
            format!("volume=0:enable='{}'", spans_expr(&quiet))
        };
        match vo {
            Some(v) => {
                self.g.chains.push(format!("[{v}]asplit=2[voout][vosc]"));
                self.g.chains.push(format!("[filmsc]{gate}[speech0];[speech0][vosc]amix=inputs=2:normalize=0:duration=first[speech]"));
                self.stems.push("[voout]".into());
            }
            None => self.g.chains.push(format!("[filmsc]{gate}[speech]")),
        }
        self.g.chains.push("[music0][speech]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400:makeup=1[music]".into());
        self.stems.push("[music]".into());
    }

    /// No music: the sidechain copy of the film sound goes nowhere, and the
    /// voice-over is a stem as it is.
    fn without_music(&mut self, vo: Option<&str>) {
        self.g.chains.push("[filmsc]anullsink".into());
        if let Some(v) = vo {
            self.stems.push(format!("[{v}]"));
        }
    }

    /// The transition sound effects, each at its place, as one stem.
    fn lay_sound_effects(&mut self) {
        let mut labels = Vec::new();
        for (j, x) in self.m.sfx.iter().enumerate() {
            let k = self.g.input(vec!["-i".into(), file_arg(&x.path)]);
            let ms = (x.at_s * 1000.0).round() as u64;
            self.g.chains.push(format!(
                "[{k}:a:0]aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,volume={}dB,adelay={ms}:all=1[sfx{j}]",
                num(x.gain_db)
            ));
            labels.push(format!("[sfx{j}]"));
        }
        if !labels.is_empty() {
            self.g.chains.push(format!(
                "{}amix=inputs={}:normalize=0:duration=longest,apad,atrim=end_sample={}[sfxmix]",
                labels.join(""),
                labels.len(),
                self.total_samples
            ));
            self.stems.push("[sfxmix]".into());
        }
    }

    /// Mixes the stems; returns the label of the mix.
    fn finish(self) -> String {
        if self.stems.len() == 1 {
            return "filmout".into();
        }
        self.g.chains.push(format!(
            "{}amix=inputs={}:normalize=0:duration=first[mix]",
            self.stems.join(""),
            self.stems.len()
        ));
        "mix".into()
    }
}
