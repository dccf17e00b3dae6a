//! The vision protocol (OpenAI chat with image parts) against a loopback
//! stand-in, malformed and slow answers, and the msgpack cache.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use base64::Engine as _;
use cinecut::llm::LlmClient;
use cinecut::story::{describe_scenes, Keyframe, SceneDescription};
use support::standin::{chat, Reply, StandIn};

fn client(url: &str) -> LlmClient {
    LlmClient::new(url)
        .with_timeout(Duration::from_millis(1500))
        .with_retries(0, Duration::ZERO)
}

/// Answers each image with its own byte count, so order can be checked.
fn describing_standin() -> StandIn {
    StandIn::start(|r, _| {
        let body = r.json();
        let url = body["messages"][0]["content"][1]["image_url"]["url"]
            .as_str()
            .unwrap_or("");
        let Some(b64) = url.strip_prefix("data:image/jpeg;base64,") else {
            return Reply::Status(400, "no image".into());
        };
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64) else {
            return Reply::Status(400, "bad base64".into());
        };
        chat(
            &serde_json::json!({
                "visual_content": format!("an image of {} bytes", bytes.len()),
                "mood": "whimsical", "action": "a rabbit yawns", "setting": "a meadow"
            })
            .to_string(),
        )
    })
}

fn run(
    kfs: &[Keyframe],
    vision: Option<&LlmClient>,
    parallel: usize,
    cache: &std::path::Path,
    film: &str,
) -> Vec<SceneDescription> {
    describe_scenes(kfs, vision, None, parallel, cache, film, &mut |_, _| {}).unwrap()
}

#[test]
fn vision_protocol_and_cache_reuse() {
    let dir = tempfile::tempdir().unwrap();
    let kfs = support::llm::real_keyframes(dir.path(), &[30.0, 95.0, 200.0, 410.0]);
    let stand = describing_standin();
    let cache = dir.path().join("work/scenes.msgpack");
    let mut seen = Vec::new();
    let first = describe_scenes(
        &kfs,
        Some(&client(&stand.url)),
        None,
        1,
        &cache,
        "film-1",
        &mut |d, t| seen.push((d, t)),
    )
    .unwrap();
    assert_eq!(stand.count(), 4);
    assert_eq!(seen.last(), Some(&(4, 4)));
    for (d, kf) in first.iter().zip(&kfs) {
        let len = std::fs::metadata(&kf.path).unwrap().len();
        assert_eq!(d.visual_content, format!("an image of {len} bytes"));
        assert_eq!(d.source, "vision:standin-model");
        assert!(d.fallback_reason.is_none());
    }
    let body = stand.bodies()[0].json();
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(body["messages"][0]["content"][0]["type"], "text");

    // The rerun asks the server nothing.
    let second = run(&kfs, Some(&client(&stand.url)), 1, &cache, "film-1");
    assert_eq!(stand.count(), 4);
    assert_eq!(first, second);
}

#[test]
fn parallel_requests_keep_keyframe_order() {
    let dir = tempfile::tempdir().unwrap();
    let kfs = support::llm::real_keyframes(dir.path(), &[10.0, 60.0, 120.0, 180.0, 240.0, 300.0]);
    let inner = describing_standin();
    let inner_url = inner.url.clone();
    // Hold each answer until a second request is in flight (or 5 s passed,
    // then fail it): proves requests overlap without timing assertions.
    let gate = StandIn::start(move |r, _| {
        let start = Instant::now();
        let flying = GATE.fetch_add(1, SeqCst) + 1;
        // PEAK remembers that two requests were in flight at once, so a
        // request that arrives alone later still passes.
        PEAK.fetch_max(flying, SeqCst);
        while PEAK.load(SeqCst) < 2 && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let ok = PEAK.load(SeqCst) >= 2;
        let reply = forward(&inner_url, &r.body);
        GATE.fetch_sub(1, SeqCst);
        if ok {
            reply
        } else {
            Reply::Status(500, "never concurrent".into())
        }
    });
    let c = client(&gate.url).with_timeout(Duration::from_secs(20));
    let out = run(&kfs, Some(&c), 3, &dir.path().join("c.msgpack"), "f");
    assert!(PEAK.load(SeqCst) >= 2);
    for (d, kf) in out.iter().zip(&kfs) {
        let len = std::fs::metadata(&kf.path).unwrap().len();
        assert_eq!(
            d.visual_content,
            format!("an image of {len} bytes"),
            "{d:?}"
        );
    }
    drop(inner);
}

static GATE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn forward(url: &str, body: &str) -> Reply {
    match ureq::post(&format!("{url}/v1/chat/completions")).send_string(body) {
        Ok(r) => Reply::Status(200, r.into_string().unwrap().into()),
        Err(e) => Reply::Status(502, e.to_string().into()),
    }
}

#[test]
fn malformed_answers_fall_back_to_measured_and_are_cached() {
    let dir = tempfile::tempdir().unwrap();
    let kfs = support::llm::real_keyframes(dir.path(), &[30.0, 95.0, 200.0]);
    let stand = StandIn::start(|_, i| match i % 3 {
        0 => chat("a rabbit in a meadow"),
        1 => chat(r#"{"visual_content": "rabbit", "mood": ""}"#),
        _ => Reply::Status(200, "{\"choices\": []}".into()),
    });
    let cache = dir.path().join("scenes.msgpack");
    let out = run(&kfs, Some(&client(&stand.url)), 1, &cache, "f");
    for d in &out {
        assert_eq!(d.source, "measured");
        assert!(
            d.fallback_reason
                .as_deref()
                .unwrap()
                .starts_with("vision failed"),
            "{d:?}"
        );
        assert!(!d.visual_content.is_empty() && !d.mood.is_empty());
    }
    assert_eq!(stand.count(), 3);
    // A model that garbles a frame will garble it again: not asked twice.
    run(&kfs, Some(&client(&stand.url)), 1, &cache, "f");
    assert_eq!(stand.count(), 3);
}

#[test]
fn slow_server_trips_the_breaker_and_is_asked_again_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let kfs = support::llm::real_keyframes(dir.path(), &[5.0, 30.0, 95.0, 200.0, 300.0, 410.0]);
    let stand = StandIn::start(|_, _| Reply::After(Duration::from_secs(3), Box::new(chat("{}"))));
    let cache = dir.path().join("scenes.msgpack");
    let out = run(&kfs, Some(&client(&stand.url)), 1, &cache, "f");
    assert!(out.iter().all(|d| d.source == "measured"));
    assert!(out[0]
        .fallback_reason
        .as_deref()
        .unwrap()
        .contains("did not answer within"));
    // Three timeouts in a row switch vision off for the rest of the film.
    assert_eq!(stand.count(), 3);
    assert!(out[5]
        .fallback_reason
        .as_deref()
        .unwrap()
        .contains("did not answer"));
    // Timeouts may pass: nothing was cached, so the rerun tries again.
    run(&kfs, Some(&client(&stand.url)), 1, &cache, "f");
    assert_eq!(stand.count(), 6);
}

#[test]
fn corrupt_other_film_and_other_version_caches_are_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let kfs = support::llm::real_keyframes(dir.path(), &[30.0, 95.0]);
    let stand = describing_standin();
    let c = client(&stand.url);
    let cache = dir.path().join("scenes.msgpack");

    std::fs::write(&cache, b"\xde\xad\xbe\xef not msgpack").unwrap();
    let a = run(&kfs, Some(&c), 1, &cache, "film-1");
    assert_eq!(stand.count(), 2);
    assert!(a.iter().all(|d| d.source == "vision:standin-model"));
    run(&kfs, Some(&c), 1, &cache, "film-1");
    assert_eq!(stand.count(), 2, "rebuilt cache is used");

    run(&kfs, Some(&c), 1, &cache, "film-2");
    assert_eq!(stand.count(), 4, "another film's cache is not trusted");

    // A cache written by a future schema version.
    #[derive(serde::Serialize)]
    struct Future {
        magic: &'static str,
        schema_version: u32,
        film_fingerprint: &'static str,
        entries: std::collections::BTreeMap<String, u8>,
    }
    let future = Future {
        magic: "cinecut-scene-descriptions",
        schema_version: 999,
        film_fingerprint: "film-2",
        entries: Default::default(),
    };
    std::fs::write(&cache, rmp_serde::to_vec_named(&future).unwrap()).unwrap();
    run(&kfs, Some(&c), 1, &cache, "film-2");
    assert_eq!(stand.count(), 6, "other-version cache is rebuilt");

    // Truncated file (a crash mid-write by another program).
    let bytes = std::fs::read(&cache).unwrap();
    std::fs::write(&cache, &bytes[..bytes.len() / 2]).unwrap();
    run(&kfs, Some(&c), 1, &cache, "film-2");
    assert_eq!(stand.count(), 8);
    // No temp files left beside the cache.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".jpg") && n != "scenes.msgpack")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn changed_keyframe_image_is_described_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut kfs = support::llm::real_keyframes(dir.path(), &[30.0, 95.0]);
    let stand = describing_standin();
    let c = client(&stand.url);
    let cache = dir.path().join("scenes.msgpack");
    run(&kfs, Some(&c), 1, &cache, "f");
    // Same path and time, other picture.
    std::fs::copy(&kfs[0].path, &kfs[1].path).unwrap();
    kfs[1].measured.faces = 7;
    run(&kfs, Some(&c), 1, &cache, "f");
    assert_eq!(stand.count(), 3, "only the changed frame is asked again");
}

#[test]
fn no_models_means_measured_without_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let kfs = support::llm::real_keyframes(dir.path(), &[30.0]);
    let out = run(&kfs, None, 4, &dir.path().join("s.msgpack"), "f");
    assert_eq!(out[0].source, "measured");
    assert!(out[0].fallback_reason.is_none());
    assert!(out[0].visual_content.contains("mostly green"));
}

#[test]
fn unwritable_cache_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let kfs = support::llm::real_keyframes(dir.path(), &[30.0]);
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let cache = blocker.join("scenes.msgpack");
    let err = describe_scenes(&kfs, None, None, 1, &cache, "f", &mut |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("scenes.msgpack"), "{err}");
}
