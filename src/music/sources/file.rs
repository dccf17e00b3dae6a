//! `--music FILE`: the user's own track, used as is.

use super::super::MusicError;
use super::{probe_audio, stem_title, MusicRequest, MusicSource, MusicTrack};

/// The file named with `--music`.
pub struct FileSource;

impl MusicSource for FileSource {
    fn name(&self) -> &str {
        "file"
    }

    fn find(&self, req: &MusicRequest) -> Result<Option<MusicTrack>, MusicError> {
        let Some(path) = &req.file else {
            return Ok(None);
        };
        let info = probe_audio(path)?;
        Ok(Some(MusicTrack {
            path: path.clone(),
            source: "file".into(),
            title: info.title.unwrap_or_else(|| stem_title(path)),
            artist: info.artist,
            licence: None,
            licence_url: None,
            attribution: None,
            reason: format!("given with --music ({:.0} s)", info.duration_s),
        }))
    }

    fn is_required(&self, req: &MusicRequest) -> bool {
        req.file.is_some()
    }
}
