//! The LLM structure path against a loopback stand-in: the protocol it speaks
//! and every fault, each of which must end in the built-in analyser with the
//! reason recorded.

mod support;

use std::time::Duration;

use cinecut::llm::LlmClient;
use cinecut::story::{find_structure, CueLite, Structure, StructureInput};
use support::standin::{chat, Reply, StandIn};

const RUNTIME: f64 = 3000.0;

fn input(n: usize) -> StructureInput {
    let cues = (0..n)
        .map(|i| {
            let t = 30.0 + i as f64 * (RUNTIME - 60.0) / n as f64;
            CueLite {
                start_s: t,
                end_s: t + 2.0,
                text: format!("line number {i}, things happen"),
                speaker: Some(if i % 4 == 0 { "ANNA" } else { "BEN" }.into()),
                intensity: 0.2,
            }
        })
        .collect();
    StructureInput {
        runtime_s: RUNTIME,
        cues,
        intensity: vec![],
    }
}

fn client(url: &str) -> LlmClient {
    LlmClient::new(url)
        .with_timeout(Duration::from_millis(1500))
        .with_retries(1, Duration::from_millis(10))
}

fn is_final(body: &str) -> bool {
    body.contains("t1_begin")
}

fn summary() -> Reply {
    chat(r#"{"summary": "Anna and Ben argue about the plan.", "tension": 4}"#)
}

fn anchors(b: f64, e: f64, c: f64) -> Reply {
    chat(&format!(
        r#"{{"protagonist": "Anna", "reasoning": "The plan fails midway.", "t1_begin": {b}, "t2_escalation": {e}, "t3_climax": {c}}}"#
    ))
}

fn run(stand: &StandIn, n: usize) -> Structure {
    find_structure(Some(&client(&stand.url)), &input(n), &mut |_, _| {})
}

fn assert_builtin(s: &Structure, needle: &str) {
    assert_eq!(s.source, "builtin", "{s:?}");
    let reason = s.fallback_reason.as_deref().unwrap_or("");
    assert!(
        reason.contains(needle),
        "reason {reason:?} lacks {needle:?}"
    );
    assert!(s.begin_t < s.escalation_t && s.escalation_t < s.climax_t);
}

#[test]
fn good_answer_is_used_with_chunked_requests() {
    let stand = StandIn::start(|r, _| {
        if is_final(&r.body) {
            anchors(500.0, 1500.0, 2200.0)
        } else {
            summary()
        }
    });
    let mut calls = Vec::new();
    let s = find_structure(Some(&client(&stand.url)), &input(230), &mut |d, t| {
        calls.push((d, t))
    });
    assert_eq!(s.source, "llm:standin-model");
    assert_eq!(
        (s.begin_t, s.escalation_t, s.climax_t),
        (500.0, 1500.0, 2200.0)
    );
    assert_eq!(s.protagonist.as_deref(), Some("Anna"));
    assert!(s.reasoning.contains("The plan fails midway"));
    assert!(s.turning_points.windows(2).all(|w| w[0] < w[1]), "{s:?}");
    // 230 cues -> 3 chunks of 76-77, then one call for the anchors.
    let reqs = stand.bodies();
    assert_eq!(reqs.len(), 4);
    assert_eq!(calls.last(), Some(&(4, 4)));
    for r in &reqs[..3] {
        assert_eq!(r.path, "/v1/chat/completions");
        let body = r.json();
        assert_eq!(body["response_format"]["type"], "json_schema");
        let prompt = body["messages"][1]["content"].as_str().unwrap();
        let lines = prompt.lines().filter(|l| l.starts_with('[')).count();
        assert!((76..=77).contains(&lines), "{lines} cue lines");
        assert!(prompt.contains("ANNA: line number"));
    }
    let last = reqs[3].json();
    let schema = &last["response_format"]["json_schema"]["schema"];
    assert_eq!(schema["properties"]["t3_climax"]["maximum"], 2940);
    assert_eq!(schema["properties"]["t1_begin"]["minimum"], 60);
    assert!(last["messages"][1]["content"]
        .as_str()
        .unwrap()
        .contains("Anna and Ben argue"));
}

#[test]
fn connection_refused_falls_back() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let s = find_structure(
        Some(&client(&format!("http://127.0.0.1:{port}"))),
        &input(60),
        &mut |_, _| {},
    );
    assert_builtin(&s, "cannot connect");
}

#[test]
fn http_500_is_retried_then_falls_back() {
    let stand = StandIn::start(|_, _| Reply::Status(500, r#"{"error":"boom"}"#.into()));
    let s = run(&stand, 60);
    assert_builtin(&s, "HTTP 500");
    assert_eq!(stand.count(), 2, "one try and one retry");
}

#[test]
fn one_500_then_success_uses_the_llm() {
    let stand = StandIn::start(|r, i| {
        if i == 0 {
            Reply::Status(503, "loading".into())
        } else if is_final(&r.body) {
            anchors(400.0, 1600.0, 2300.0)
        } else {
            summary()
        }
    });
    let s = run(&stand, 60);
    assert_eq!(s.source, "llm:standin-model", "{s:?}");
    assert_eq!(stand.count(), 3);
}

#[test]
fn timeout_falls_back() {
    let stand = StandIn::start(|_, _| Reply::After(Duration::from_secs(4), Box::new(summary())));
    let s = run(&stand, 60);
    assert_builtin(&s, "did not answer within");
}

#[test]
fn truncated_answer_falls_back() {
    let stand = StandIn::start(|_, _| {
        Reply::Raw(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"choices\":[{\"message\":{\"content\":\"{\\\"summ"
                .to_vec(),
        )
    });
    let s = run(&stand, 60);
    assert_builtin(&s, "LLM failed");
    assert!(
        s.fallback_reason.as_deref().unwrap().contains("cut off"),
        "{:?}",
        s.fallback_reason
    );
}

#[test]
fn non_json_answer_falls_back() {
    let stand = StandIn::start(|_, _| Reply::Status(200, "<html>Bad gateway</html>".into()));
    let s = run(&stand, 60);
    assert_builtin(&s, "not an OpenAI chat completion");
}

#[test]
fn prose_instead_of_json_falls_back() {
    let stand = StandIn::start(|_, _| chat("Sure! The climax is at the end."));
    let s = run(&stand, 60);
    assert_builtin(&s, "none of the 1 chunk summaries");
    let stand = StandIn::start(|r, _| {
        if is_final(&r.body) {
            chat("The climax is at 2200 seconds.")
        } else {
            summary()
        }
    });
    assert_builtin(&run(&stand, 60), "did not return JSON");
}

#[test]
fn out_of_range_anchors_fall_back() {
    let stand = StandIn::start(|r, _| {
        if is_final(&r.body) {
            anchors(500.0, 1500.0, 3600.0)
        } else {
            summary()
        }
    });
    assert_builtin(&run(&stand, 60), "not in order");
    let stand = StandIn::start(|r, _| {
        if is_final(&r.body) {
            anchors(20.0, 1500.0, 2200.0)
        } else {
            summary()
        }
    });
    assert_builtin(&run(&stand, 60), "first or last 2 %");
}

#[test]
fn non_monotonic_anchors_fall_back() {
    let stand = StandIn::start(|r, _| {
        if is_final(&r.body) {
            anchors(1500.0, 500.0, 2200.0)
        } else {
            summary()
        }
    });
    assert_builtin(&run(&stand, 60), "not in order");
}

#[test]
fn missing_anchor_field_falls_back() {
    let stand = StandIn::start(|r, _| {
        if is_final(&r.body) {
            chat(r#"{"protagonist": "", "reasoning": "x", "t1_begin": 100}"#)
        } else {
            summary()
        }
    });
    assert_builtin(&run(&stand, 60), "lacks a number");
}

#[test]
fn oversized_answer_falls_back() {
    let stand = StandIn::start(|_, _| chat(&"x".repeat(100_000)));
    let c = client(&stand.url).with_max_response_bytes(10_000);
    let s = find_structure(Some(&c), &input(60), &mut |_, _| {});
    assert_builtin(&s, "larger than the 10000-byte cap");
}
