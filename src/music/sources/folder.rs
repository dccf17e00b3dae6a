//! `--music-dir DIR`: the user's tracks, ranked by how well tags, tempo and
//! length fit the vibe. Every candidate is probed (not judged by extension)
//! and its tempo measured on the first minute.

use super::super::{decode_mono_limited, track_beats, MusicError, ANALYSIS_SR};
use super::{probe_audio, stem_title, MusicRequest, MusicSource, MusicTrack};
use std::path::{Path, PathBuf};

/// How much of each track to analyse for tempo: enough for a stable
/// estimate, cheap enough for a folder of albums.
const SCAN_S: f64 = 60.0;
/// Ignore files that are obviously not media (cover art, playlists, notes).
const SKIP_EXT: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "txt", "nfo", "m3u", "m3u8", "pls", "cue", "log", "json", "pdf",
];

pub struct FolderSource;

/// One scored candidate, for the manifest's reason line.
#[derive(Debug)]
struct Scored {
    path: PathBuf,
    score: f64,
    bpm: f64,
    tag_hits: usize,
    duration_s: f64,
    title: String,
    artist: Option<String>,
}

impl MusicSource for FolderSource {
    fn name(&self) -> &str {
        "folder"
    }

    fn find(&self, req: &MusicRequest) -> Result<Option<MusicTrack>, MusicError> {
        let Some(dir) = &req.dir else {
            return Ok(None);
        };
        let entries = std::fs::read_dir(dir).map_err(|e| MusicError::Folder {
            path: dir.clone(),
            detail: e.to_string(),
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .filter(|p| {
                let ext = p
                    .extension()
                    .map(|e| e.to_string_lossy().to_ascii_lowercase())
                    .unwrap_or_default();
                !SKIP_EXT.contains(&ext.as_str())
            })
            .collect();
        files.sort();
        let mut best: Option<Scored> = None;
        let mut rejected = 0;
        for path in files {
            match score_file(&path, req) {
                Ok(s) if best.as_ref().is_none_or(|b| s.score > b.score) => best = Some(s),
                Ok(_) => {}
                Err(_) => rejected += 1,
            }
        }
        let Some(b) = best else {
            return Err(MusicError::Folder {
                path: dir.clone(),
                detail: format!("no decodable audio files ({rejected} rejected)"),
            });
        };
        Ok(Some(MusicTrack {
            reason: format!(
                "best fit in {}: {} tag match(es), {:.0} BPM for a {:.0} BPM vibe, {:.0} s long (score {:.2})",
                dir.display(),
                b.tag_hits,
                b.bpm,
                req.tempo_bpm,
                b.duration_s,
                b.score
            ),
            path: b.path,
            source: "folder".into(),
            title: b.title,
            artist: b.artist,
            licence: None,
            licence_url: None,
            attribution: None,
        }))
    }

    fn is_required(&self, req: &MusicRequest) -> bool {
        req.dir.is_some()
    }
}

fn score_file(path: &Path, req: &MusicRequest) -> Result<Scored, MusicError> {
    let info = probe_audio(path)?;
    let mono = decode_mono_limited(path, ANALYSIS_SR, Some(SCAN_S))?;
    let grid = track_beats(&mono, ANALYSIS_SR, Some(req.tempo_bpm));
    let text = format!(
        "{} {} {} {}",
        path.file_name()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default(),
        info.title.as_deref().unwrap_or(""),
        info.genre.as_deref().unwrap_or(""),
        info.comment.as_deref().unwrap_or("")
    )
    .to_ascii_lowercase();
    let mut words: Vec<&str> = req.tags.iter().map(String::as_str).collect();
    words.push(&req.vibe);
    let tag_hits = words
        .iter()
        .filter(|w| !w.is_empty() && text.contains(&w.to_ascii_lowercase()))
        .count();
    Ok(Scored {
        path: path.to_path_buf(),
        score: fit_score(
            tag_hits,
            grid.bpm,
            req.tempo_bpm,
            info.duration_s,
            req.length_s,
        ),
        bpm: grid.bpm,
        tag_hits,
        duration_s: info.duration_s,
        title: info.title.unwrap_or_else(|| stem_title(path)),
        artist: info.artist,
    })
}

/// Tags count most (the user labelled the mood), then tempo closeness in
/// octaves (a half- or double-time track still cuts well, at a discount),
/// then whether the track covers the trailer.
fn fit_score(tag_hits: usize, bpm: f64, target: f64, duration_s: f64, length_s: f64) -> f64 {
    let tempo = if bpm > 0.0 && target > 0.0 {
        let d = (bpm / target).log2();
        let near = |x: f64| (-(x / 0.15).powi(2) / 2.0).exp();
        near(d).max(0.6 * near(d - 1.0)).max(0.6 * near(d + 1.0))
    } else {
        0.0
    };
    let cover = (duration_s / length_s.max(1.0)).min(1.0);
    tag_hits as f64 + tempo + 0.5 * cover
}

#[cfg(test)]
mod tests {
    use super::fit_score;

    #[test]
    fn score_prefers_tags_then_tempo_then_length() {
        assert!(fit_score(1, 90.0, 140.0, 200.0, 120.0) > fit_score(0, 140.0, 140.0, 200.0, 120.0));
        assert!(
            fit_score(0, 140.0, 140.0, 200.0, 120.0) > fit_score(0, 100.0, 140.0, 200.0, 120.0)
        );
        // Double time is an acceptable fit, better than a far-off tempo.
        assert!(fit_score(0, 70.0, 140.0, 200.0, 120.0) > fit_score(0, 100.0, 140.0, 200.0, 120.0));
        assert!(fit_score(0, 140.0, 140.0, 200.0, 120.0) > fit_score(0, 140.0, 140.0, 30.0, 120.0));
    }
}
