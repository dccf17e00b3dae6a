//! Jamendo source against a local stand-in server (std TcpListener on
//! 127.0.0.1) that speaks real API v3 JSON. Every failure must fall through
//! to the built-in bed, never abort; a good download is cached per vibe.

mod support;

use cinecut::music::*;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use support::standin::{Reply, StandIn};

/// What the stand-in answers for a path: status, body, delay before answering.
type Handler = dyn Fn(&str) -> (u16, Vec<u8>, Duration) + Send + Sync;

fn serve(handler: Box<Handler>) -> StandIn {
    StandIn::start(move |req, _| {
        let (code, body, delay) = handler(&req.path);
        Reply::After(delay, Box::new(Reply::Status(code, body)))
    })
}

fn fixture_song() -> Vec<u8> {
    let p = support::fixture("music/Chaos_God/mix.ogg");
    std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", p.display()))
}

/// A real-format API v3 search answer pointing at our download URL.
fn search_json(base: &str, n: usize) -> Vec<u8> {
    let results: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "id": format!("{}", 1000 + i), "name": "Chaos God", "duration": 183,
                "artist_id": "7", "artist_name": "Muldjord", "album_name": "Frets",
                "license_ccurl": "http://creativecommons.org/licenses/by-sa/3.0/",
                "audio": format!("{base}/stream/{i}.mp3"),
                "audiodownload": format!("{base}/download/{i}.mp3"),
                "audiodownload_allowed": true, "shareurl": "https://www.jamendo.com/track/1000",
                "musicinfo": {"vocalinstrumental": "instrumental", "tags": {"genres": ["metal"], "vartags": ["energetic"]}}
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "headers": {"status": "success", "code": 0, "error_message": "", "warnings": "", "results_count": n},
        "results": results
    }))
    .unwrap()
}

fn request(dir: &Path, base: &str) -> MusicRequest {
    let mut r = MusicRequest::new("action", vec!["rock".into(), "epic".into()], 120.0, 20.0);
    r.jamendo_client_id = Some("test-client".into());
    r.jamendo_base_url = base.to_string();
    r.jamendo_timeout_s = 1.0;
    r.cache_dir = dir.join("cache");
    r.work_dir = dir.join("work");
    r
}

#[test]
fn good_search_downloads_once_and_keeps_attribution() {
    let song = Arc::new(fixture_song());
    let s2 = song.clone();
    let srv_base = Arc::new(std::sync::Mutex::new(String::new()));
    let b2 = srv_base.clone();
    let srv = serve(Box::new(move |path| {
        if path.starts_with("/v3.0/tracks/") {
            assert!(path.contains("client_id=test-client") && path.contains("format=json"));
            assert!(path.contains("audiodownload_allowed=true") && path.contains("tags=rock"));
            (200, search_json(&b2.lock().unwrap(), 2), Duration::ZERO)
        } else if path.starts_with("/download/") {
            (200, s2.to_vec(), Duration::ZERO)
        } else {
            (404, b"not found".to_vec(), Duration::ZERO)
        }
    }));
    *srv_base.lock().unwrap() = srv.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let req = request(dir.path(), &srv.url);
    let (t, skipped) = choose_music(&req, &mut |_| {}).unwrap();
    assert_eq!(t.source, "jamendo", "skipped: {skipped:?}");
    assert_eq!(t.title, "Chaos God");
    assert_eq!(t.artist.as_deref(), Some("Muldjord"));
    assert_eq!(t.licence.as_deref(), Some("CC BY-SA 3.0"));
    assert!(t.attribution.as_deref().unwrap().contains("Muldjord"));
    assert_eq!(std::fs::read(&t.path).unwrap(), *song);
    let hits = srv.count();
    assert_eq!(hits, 2, "one search, one download");
    // Cached: the same vibe never reaches the network again, even offline.
    let mut offline = request(dir.path(), "http://127.0.0.1:9");
    offline.jamendo_client_id = None;
    let (t2, _) = choose_music(&offline, &mut |_| {}).unwrap();
    assert_eq!(t2, t);
    assert_eq!(srv.count(), hits);
}

/// Every fault must end in the built-in bed with a skip note saying why.
fn falls_through(handler: Box<Handler>, expect_in_note: &str) -> StandIn {
    let srv = serve(handler);
    let dir = tempfile::tempdir().unwrap();
    let req = request(dir.path(), &srv.url);
    let (t, skipped) = choose_music(&req, &mut |_| {}).unwrap();
    assert_eq!(t.source, "synth");
    let note = skipped
        .iter()
        .find(|s| s.starts_with("jamendo"))
        .expect("a jamendo note");
    assert!(
        note.contains(expect_in_note),
        "note {note:?} lacks {expect_in_note:?}"
    );
    // Nothing half-downloaded is left as a cached track.
    assert!(!dir.path().join("cache/jamendo/action/track.json").exists());
    srv
}

#[test]
fn empty_results_fall_through() {
    let srv = falls_through(
        Box::new(|_| (200, search_json("http://x", 0), Duration::ZERO)),
        "no downloadable track",
    );
    // Both tags, then the first tag alone.
    assert_eq!(srv.count(), 2);
}

#[test]
fn unauthorised_is_not_retried() {
    let body = br#"{"headers":{"status":"failed","code":5,"error_message":"Invalid client id","results_count":0},"results":[]}"#;
    let srv = falls_through(
        Box::new(move |_| (401, body.to_vec(), Duration::ZERO)),
        "401",
    );
    assert_eq!(srv.count(), 1);
}

#[test]
fn api_error_in_a_200_answer_falls_through() {
    let body = br#"{"headers":{"status":"failed","code":5,"error_message":"Your credential is suspended","results_count":0},"results":[]}"#;
    falls_through(
        Box::new(move |_| (200, body.to_vec(), Duration::ZERO)),
        "suspended",
    );
}

#[test]
fn server_error_is_retried_then_falls_through() {
    let srv = falls_through(Box::new(|_| (500, b"oops".to_vec(), Duration::ZERO)), "500");
    assert_eq!(srv.count(), 3, "three attempts with backoff");
}

#[test]
fn slow_answer_times_out_and_falls_through() {
    falls_through(
        Box::new(|_| (200, search_json("http://x", 1), Duration::from_secs(3))),
        "attempts",
    );
}

#[test]
fn huge_body_is_capped() {
    falls_through(
        Box::new(|_| (200, vec![b' '; 3 * 1024 * 1024], Duration::ZERO)),
        "cap",
    );
}

#[test]
fn garbage_json_falls_through() {
    falls_through(
        Box::new(|_| (200, b"<html>hello</html>".to_vec(), Duration::ZERO)),
        "not Jamendo JSON",
    );
}

#[test]
fn download_that_is_not_audio_falls_through() {
    let base = Arc::new(std::sync::Mutex::new(String::new()));
    let b2 = base.clone();
    let srv = serve(Box::new(move |path| {
        if path.starts_with("/v3.0/") {
            (200, search_json(&b2.lock().unwrap(), 1), Duration::ZERO)
        } else {
            (
                200,
                b"<html><body>Track unavailable</body></html>".to_vec(),
                Duration::ZERO,
            )
        }
    }));
    *base.lock().unwrap() = srv.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let req = request(dir.path(), &srv.url);
    let (t, skipped) = choose_music(&req, &mut |_| {}).unwrap();
    assert_eq!(t.source, "synth");
    assert!(
        skipped.iter().any(|s| s.contains("not audio")),
        "{skipped:?}"
    );
    assert!(!dir.path().join("cache/jamendo/action/track.json").exists());
    assert!(!dir.path().join("cache/jamendo/action/track.audio").exists());
}

#[test]
fn unreachable_server_falls_through() {
    let dir = tempfile::tempdir().unwrap();
    // Port 9 (discard) on loopback: connection refused.
    let req = request(dir.path(), "http://127.0.0.1:9");
    let (t, skipped) = choose_music(&req, &mut |_| {}).unwrap();
    assert_eq!(t.source, "synth");
    assert!(skipped.iter().any(|s| s.starts_with("jamendo")));
}
