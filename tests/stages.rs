//! The stage table end to end, on the TED clip with its subtitles: a rerun
//! skips every stage, and bumping one stage's version re-runs exactly that
//! stage and the stages downstream of it, through the real pipeline (real
//! ffmpeg, real render) — for every stage of the table.

mod support;

use cinecut::cli::TrailerArgs;
use cinecut::options::TrailerOptions;
use cinecut::pipeline::{self, Status, STAGES};
use cinecut::ui::Ui;

/// What each stage's version bump must re-run: the stage and every stage
/// that reads its artifact, directly or through another.
const DOWNSTREAM: [(&str, &[&str]); 7] = [
    (
        "analyse",
        &["analyse", "structure", "storyboard", "assemble", "render"],
    ),
    (
        "subtitles",
        &["subtitles", "structure", "storyboard", "assemble", "render"],
    ),
    (
        "structure",
        &["structure", "storyboard", "assemble", "render"],
    ),
    ("storyboard", &["storyboard", "assemble", "render"]),
    ("music", &["music", "assemble", "render"]),
    ("assemble", &["assemble", "render"]),
    ("render", &["render"]),
];

#[test]
fn a_version_bump_reruns_that_stage_and_those_downstream_only() {
    let dir = tempfile::tempdir().unwrap();
    let args = TrailerArgs {
        film: support::fixture("ted/test.mp4"),
        subs: Some(support::fixture("ted/test.srt")),
        vibe: "drama".into(),
        length: Some(30.0),
        output: Some(dir.path().join("t.mp4")),
        spoiler_line: 0.85,
        end_card: "COMING SOON".into(),
        ..Default::default()
    };
    let opts = TrailerOptions::try_from(&args).unwrap();
    let ui = Ui::new(true, false);
    let ran = |table: &[pipeline::Spec]| -> Vec<String> {
        let s = pipeline::run_trailer_with(&opts, &ui, table).unwrap();
        let names: Vec<&str> = s.stages.iter().map(|r| r.name.as_str()).collect();
        let table_names: Vec<&str> = STAGES.iter().map(|s| s.name).collect();
        assert_eq!(names, table_names, "every stage is reported, in order");
        s.stages
            .iter()
            .filter(|r| r.status == Status::Ran)
            .map(|r| r.name.clone())
            .collect()
    };
    let mut table = STAGES;
    assert_eq!(
        ran(&table).len(),
        STAGES.len(),
        "a first run runs every stage"
    );
    assert!(ran(&table).is_empty(), "a rerun skips every stage");
    // Bumps accumulate, so each step changes one stage against the last run.
    for (name, expected) in DOWNSTREAM {
        let row = table.iter_mut().find(|s| s.name == name).unwrap();
        row.version += 1;
        assert_eq!(ran(&table), expected, "after bumping {name}");
    }
    assert!(
        ran(&table).is_empty(),
        "a rerun after the bumps skips every stage"
    );
}
