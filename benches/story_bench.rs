//! Benchmark for the story modules; prints ratios measured in the same run.
//!   cargo bench --bench story_bench
//! 1. describe_scenes over 300 real keyframes (Big Buck Bunny) against a
//!    loopback vision stand-in that answers at once: the cached rerun versus
//!    the first run (which costs 300 requests, base64 and hashing).
//! 2. builtin_structure on a film-sized input (1500 cues, one intensity sample
//!    per second of a 100-minute film) versus reading the same cues' text once.

#[path = "../tests/support/fixtures.rs"]
mod fixtures;
#[path = "../tests/support/standin.rs"]
#[allow(dead_code)]
mod standin;

use std::process::Command;
use std::time::Instant;

use cinecut::llm::LlmClient;
use cinecut::story::{
    builtin_structure, describe_scenes, CueLite, Keyframe, MeasuredSignals, StructureInput,
};

fn main() {
    let film = fixtures::fixture("bbb.mp4");
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let st = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-i"])
        .arg(&film)
        .args([
            "-vf",
            "fps=0.51,scale=320:-2",
            "-frames:v",
            "300",
            "-q:v",
            "4",
        ])
        .arg(dir.path().join("kf%03d.jpg"))
        .status()
        .unwrap();
    assert!(st.success());
    println!("keyframes extracted in {:.1} s", t.elapsed().as_secs_f64());
    let kfs: Vec<Keyframe> = (1..=300)
        .map(|i| Keyframe {
            shot_index: i,
            time_s: (i as f64 - 1.0) * 2.0,
            path: dir.path().join(format!("kf{i:03}.jpg")),
            measured: MeasuredSignals::default(),
        })
        .collect();
    let stand = standin::StandIn::start(|_, _| {
        standin::chat(
            r#"{"visual_content":"a rabbit","mood":"calm","action":"grazing","setting":"meadow"}"#,
        )
    });
    let client = LlmClient::new(&stand.url);
    let cache = dir.path().join("scenes.msgpack");
    let t = Instant::now();
    describe_scenes(&kfs, Some(&client), None, 1, &cache, "bbb", &mut |_, _| {}).unwrap();
    let first = t.elapsed().as_secs_f64();
    let t = Instant::now();
    describe_scenes(&kfs, Some(&client), None, 1, &cache, "bbb", &mut |_, _| {}).unwrap();
    let rerun = t.elapsed().as_secs_f64();
    assert_eq!(stand.count(), 300);
    println!(
        "describe 300 keyframes: first run {:.3} s ({} requests), cached rerun {:.3} s (0 requests): rerun/first = {:.3}, cache {} KiB",
        first,
        stand.count(),
        rerun,
        rerun / first,
        std::fs::metadata(&cache).unwrap().len() / 1024
    );

    let cues: Vec<CueLite> = (0..1500)
        .map(|i| CueLite {
            start_s: i as f64 * 4.0,
            end_s: i as f64 * 4.0 + 2.5,
            text: format!("line {i} with a few words in it!"),
            speaker: Some(format!("S{}", i % 7)),
            intensity: ((i * 37) % 100) as f32 / 100.0,
        })
        .collect();
    let input = StructureInput {
        runtime_s: 6000.0,
        intensity: (0..6000)
            .map(|s| (s as f64, ((s * 13) % 100) as f32 / 100.0))
            .collect(),
        cues,
    };
    let reps = 50;
    let t = Instant::now();
    let mut words = 0;
    for _ in 0..reps {
        words += input
            .cues
            .iter()
            .map(|c| c.text.split_whitespace().count())
            .sum::<usize>();
    }
    let reference = t.elapsed().as_secs_f64() / reps as f64;
    let t = Instant::now();
    let mut sink = 0.0;
    for _ in 0..reps {
        sink += builtin_structure(&input).climax_t;
    }
    let builtin = t.elapsed().as_secs_f64() / reps as f64;
    println!(
        "builtin_structure (1500 cues, 6000 samples): {:.3} ms per film = {:.1}x one pass counting the cues' words ({:.3} ms) [{} {}]",
        builtin * 1e3,
        builtin / reference,
        reference * 1e3,
        words / reps,
        sink / reps as f64
    );
}
