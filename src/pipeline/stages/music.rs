//! The music stage: the user's file or folder, Jamendo, or the built-in bed,
//! and its beat grid, which every cut will land on (`music.json`).

use crate::error::Result;
use crate::music;
use crate::pipeline::{Context, Stage};
use crate::workdir;
use serde::{Deserialize, Serialize};

/// The music stage's artifact.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MusicChoice {
    pub track: music::MusicTrack,
    pub grid: music::BeatGrid,
    pub skipped: Vec<String>,
}

pub struct MusicStage;

impl Stage for MusicStage {
    type Output = MusicChoice;

    fn name(&self) -> &'static str {
        "music"
    }

    fn options(&self, cx: &Context) -> Result<Vec<String>> {
        let cut = cx.cut();
        let o = cut.opts;
        let source = match (&o.music, &o.music_dir) {
            (Some(f), _) => workdir::file_fingerprint(f)?,
            (None, Some(d)) => format!(
                "dir:{}:{}",
                std::path::absolute(d).unwrap_or_default().display(),
                workdir::mtime_ns(d)
            ),
            _ => format!("jamendo:{}", std::env::var("JAMENDO_CLIENT_ID").is_ok()),
        };
        Ok(vec![
            source,
            o.vibe.name.clone(),
            format!("{:.3}", cut.target_s),
        ])
    }

    fn run(&self, cx: &Context, bar: &crate::ui::Stage) -> Result<(MusicChoice, String)> {
        let cut = cx.cut();
        let (o, target) = (cut.opts, cut.target_s);
        let vibe = &o.vibe;
        let mut req = music::MusicRequest::new(
            &vibe.name,
            vibe.music_tags.clone(),
            vibe.tempo_bpm,
            target + 8.0,
        );
        // The built-in bed builds to its peak where act 3 will roughly start.
        req.peak_at_s = Some(target * 0.62);
        req.file = o.music.clone();
        req.dir = o.music_dir.clone();
        req.cache_dir = crate::demo::cache_dir().join("music");
        req.work_dir = cx.work.clone();
        let (track, skipped) = music::choose_music(&req, &mut |m| bar.message(m))?;
        bar.message("beat tracking");
        let mono = music::decode_mono(&track.path, music::ANALYSIS_SR)?;
        let grid = music::track_beats(&mono, music::ANALYSIS_SR, Some(vibe.tempo_bpm));
        let msg = format!(
            "{} ({}), {:.1} BPM, {} beats",
            track.title,
            track.source,
            grid.bpm,
            grid.beats.len()
        );
        let choice = MusicChoice {
            track,
            grid,
            skipped,
        };
        Ok((choice, msg))
    }

    fn keep(&self, cx: &mut Context, m: MusicChoice) {
        // The length the music and the cut aim at is first read here; why it
        // is shorter than asked, when it is, is told on every run.
        if let Some(w) = cx.cut().target_note.clone() {
            cx.warn(w);
        }
        cx.music = Some(m);
    }
}
