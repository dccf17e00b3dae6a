//! Jamendo API v3: Creative Commons tracks that allow download, searched by
//! the vibe's tags, downloaded once per vibe into the user cache and reused
//! forever after. Every failure (offline, 401, 5xx, garbage, a download that
//! is not audio) is returned as an error so that [`super::choose_music`]
//! moves on to the next source.

use super::super::MusicError;
use super::{probe_audio, slug, MusicRequest, MusicSource, MusicTrack};
use crate::net::{HttpClient, HttpConfig, NetError, Patience, Request};
use serde::Deserialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A search answer is a few KB; anything near this is not Jamendo.
const MAX_JSON_BYTES: u64 = 2 * 1024 * 1024;
/// A 10-minute MP3 at 320 kbit/s is ~24 MB.
const MAX_AUDIO_BYTES: u64 = 64 * 1024 * 1024;
const ATTEMPTS: u32 = 3;
const BACKOFF_MS: u64 = 300;

pub struct JamendoSource;

#[derive(Deserialize)]
struct Answer {
    headers: Option<Headers>,
    #[serde(default)]
    results: Vec<Track>,
}

#[derive(Deserialize)]
struct Headers {
    status: Option<String>,
    #[serde(default)]
    error_message: String,
}

#[derive(Deserialize)]
struct Track {
    #[serde(default)]
    id: serde_json::Value,
    #[serde(default)]
    name: String,
    #[serde(default)]
    artist_name: String,
    #[serde(default)]
    duration: f64,
    #[serde(default)]
    audiodownload: String,
    #[serde(default)]
    audiodownload_allowed: Option<bool>,
    #[serde(default)]
    license_ccurl: String,
}

impl MusicSource for JamendoSource {
    fn name(&self) -> &str {
        "jamendo"
    }

    fn find(&self, req: &MusicRequest) -> Result<Option<MusicTrack>, MusicError> {
        let dir = cache_dir_for(req);
        let meta = dir.join("track.json");
        // Cached: never touch the network again for this vibe.
        if let Some(track) = read_cached(&meta) {
            return Ok(Some(track));
        }
        let Some(client_id) = req.jamendo_client_id.as_deref() else {
            return Ok(None);
        };
        let http = http_client(req);
        let mut tracks = search(&http, req, client_id, &req.tags.join(" "))?;
        if tracks.is_empty() && req.tags.len() > 1 {
            // All tags at once can be too narrow; the first is the vibe's main one.
            tracks = search(&http, req, client_id, &req.tags[0])?;
        }
        let mut usable: Vec<Track> = tracks
            .into_iter()
            .filter(|t| !t.audiodownload.is_empty() && t.audiodownload_allowed != Some(false))
            .collect();
        if usable.is_empty() {
            return Err(MusicError::Jamendo(format!(
                "no downloadable track for tags {:?}",
                req.tags
            )));
        }
        // Prefer tracks that cover the whole trailer; then Jamendo's order.
        usable.sort_by_key(|t| t.duration < req.length_s);
        let t = &usable[0];
        std::fs::create_dir_all(&dir).map_err(|e| MusicError::Io {
            path: dir.clone(),
            source: e,
        })?;
        let audio = dir.join("track.audio");
        download(&http, &t.audiodownload, &audio)?;
        let title = if t.name.is_empty() {
            format!("Jamendo track {}", t.id)
        } else {
            t.name.clone()
        };
        let artist = (!t.artist_name.is_empty()).then(|| t.artist_name.clone());
        let licence_url = (!t.license_ccurl.is_empty()).then(|| t.license_ccurl.clone());
        let track = MusicTrack {
            path: audio,
            source: "jamendo".into(),
            attribution: Some(format!(
                "\"{}\" by {} (jamendo.com), {}",
                title,
                artist.as_deref().unwrap_or("unknown artist"),
                licence_url.as_deref().unwrap_or("Creative Commons licence")
            )),
            licence: licence_url.as_deref().map(licence_name),
            licence_url,
            artist,
            title,
            reason: format!(
                "Jamendo search for {:?}, downloaded once for vibe {}",
                req.tags, req.vibe
            ),
        };
        write_meta(&meta, &track)?;
        Ok(Some(track))
    }
}

fn read_cached(meta: &Path) -> Option<MusicTrack> {
    let text = std::fs::read_to_string(meta).ok()?;
    let track: MusicTrack = serde_json::from_str(&text).ok()?;
    track.path.is_file().then_some(track)
}

fn write_meta(meta: &Path, track: &MusicTrack) -> Result<(), MusicError> {
    let io = |source| MusicError::Io {
        path: meta.to_path_buf(),
        source,
    };
    let dir = meta.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    let json = serde_json::to_vec_pretty(track).map_err(|e| io(std::io::Error::other(e)))?;
    tmp.write_all(&json).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(meta).map_err(|e| io(e.error))?;
    Ok(())
}

/// "https://creativecommons.org/licenses/by-sa/3.0/" → "CC BY-SA 3.0".
fn licence_name(url: &str) -> String {
    let parts: Vec<&str> = url.trim_end_matches('/').rsplit('/').take(2).collect();
    match parts.as_slice() {
        [ver, kind] if url.contains("creativecommons.org") => {
            format!("CC {} {}", kind.to_ascii_uppercase(), ver)
        }
        _ => url.to_string(),
    }
}

/// Each read (not the whole download) is bounded by the request's timeout,
/// so a slow but moving download of a long track is never cut.
fn http_client(req: &MusicRequest) -> HttpClient {
    let timeout = Duration::from_secs_f64(req.jamendo_timeout_s.max(0.1));
    HttpClient::new(HttpConfig {
        connect_timeout: timeout,
        patience: Patience::EachRead(timeout),
        retries: ATTEMPTS - 1,
        backoff: Duration::from_millis(BACKOFF_MS),
        max_body_bytes: MAX_JSON_BYTES,
    })
}

fn search(
    http: &HttpClient,
    req: &MusicRequest,
    client_id: &str,
    tags: &str,
) -> Result<Vec<Track>, MusicError> {
    let url = format!(
        "{}/v3.0/tracks/",
        req.jamendo_base_url.trim_end_matches('/')
    );
    let query = Request::get(&url)
        .query("client_id", client_id)
        .query("format", "json")
        .query("tags", tags)
        .query("audiodownload_allowed", "true")
        .query("include", "musicinfo")
        .query("order", "popularity_total")
        .query("limit", "20");
    let body = http.send(&query).map_err(jamendo_error)?;
    let answer: Answer = serde_json::from_slice(&body)
        .map_err(|e| MusicError::Jamendo(format!("search answer is not Jamendo JSON: {e}")))?;
    if let Some(h) = &answer.headers {
        if h.status.as_deref().is_some_and(|s| s != "success") {
            return Err(MusicError::Jamendo(format!(
                "search failed: {}",
                if h.error_message.is_empty() {
                    "no message"
                } else {
                    &h.error_message
                }
            )));
        }
    }
    Ok(answer.results)
}

/// Download to a temp file next to `dest`, check it is audio, then rename.
fn download(http: &HttpClient, url: &str, dest: &Path) -> Result<(), MusicError> {
    let bytes = http
        .send(&Request::get(url).max_body_bytes(MAX_AUDIO_BYTES))
        .map_err(jamendo_error)?;
    let dir = dest.parent().unwrap_or(Path::new("."));
    let io = |source| MusicError::Io {
        path: dest.to_path_buf(),
        source,
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    tmp.write_all(&bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    // Judge the content, not the Content-Type: CDNs answer errors with 200.
    probe_audio(tmp.path())
        .map_err(|e| MusicError::Jamendo(format!("download from {url} is not audio ({e})")))?;
    tmp.persist(dest).map_err(|e| io(e.error))?;
    Ok(())
}

/// The skip note for a failed request. A transient failure that comes back
/// has used every attempt.
fn jamendo_error(e: NetError) -> MusicError {
    MusicError::Jamendo(match &e {
        NetError::Status {
            status: 401 | 403, ..
        } => format!("{e} (is the client id valid?)"),
        _ if e.is_transient() => format!("gave up after {ATTEMPTS} attempts: {e}"),
        _ => e.to_string(),
    })
}

/// Where the Jamendo download for a vibe is cached.
fn cache_dir_for(req: &MusicRequest) -> PathBuf {
    req.cache_dir.join("jamendo").join(slug(&req.vibe))
}

#[cfg(test)]
mod tests {
    use super::licence_name;

    #[test]
    fn licence_names() {
        assert_eq!(
            licence_name("http://creativecommons.org/licenses/by-nc-sa/3.0/"),
            "CC BY-NC-SA 3.0"
        );
        assert_eq!(
            licence_name("https://example.org/x"),
            "https://example.org/x"
        );
    }
}
