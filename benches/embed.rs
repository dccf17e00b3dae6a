//! Embedding benchmark: 300 varied scene descriptions on 2 threads (set
//! RAYON_NUM_THREADS to change), each strategy timed in the same run and reported as
//! sentences per second and as a ratio of the naive reference (candle, one unsorted
//! batch). Also prints the process CPU time per strategy (what the wall time would be
//! on one idle core; on a shared machine the wall time drifts, the CPU time much less),
//! the matmul work and the GFLOPS it implies, and the load average before and after.
//! Run: `cargo bench --bench embed --features candle-reference` (needs the real MiniLM
//! weights).

use std::time::{Duration, Instant};

use cinecut::embed::{bf16_supported, cosine, Batching, Embedder, Precision};

const SUBJECTS: &[&str] = &[
    "a young woman in a red coat",
    "two soldiers",
    "the old detective",
    "a giant white rabbit",
    "a crowd of villagers",
    "the masked stranger",
    "a little girl holding a lantern",
    "the captain",
    "three friends",
    "a lone rider",
    "the scientist",
    "a pack of wolves",
];
const ACTIONS: &[&str] = &[
    "runs through",
    "stares silently across",
    "fights desperately in",
    "laughs and dances in",
    "hides from the searchlights in",
    "argues loudly in",
    "walks slowly through",
    "crashes a car into the wall of",
    "embraces a lost friend in",
    "reads a letter by candlelight in",
];
const SETTINGS: &[&str] = &[
    "a burning village at night",
    "a sunny meadow full of flowers",
    "a rain-soaked city street",
    "a cramped spaceship corridor lit by red warning lights",
    "an empty diner at dawn",
    "a snowy mountain pass",
    "a crowded train station",
    "the ruins of an ancient temple",
    "a quiet suburban kitchen",
    "a dark forest",
];
const MOODS: &[&str] = &[
    "tense",
    "joyful",
    "melancholic",
    "terrifying",
    "romantic",
    "calm",
    "chaotic",
    "mysterious",
];
const DETAILS: &[&str] = &[
    "The camera pushes in slowly on a face streaked with tears.",
    "Sparks and debris fly past the lens as the building collapses behind them.",
    "Warm golden light falls across the table, and a radio plays softly in the background.",
    "Handheld, shaky framing; bodies collide and someone screams off screen.",
    "A wide establishing shot shows the whole valley under heavy grey clouds, with smoke rising from distant chimneys and birds circling overhead.",
    "",
];

/// Deterministic, varied descriptions: 1 to 4 sentences, about 8 to 80 tokens.
fn descriptions(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let pick = |xs: &[&'static str], k: usize| xs[(i * k + i / 7) % xs.len()];
            let mut s = format!(
                "{} {} {}.",
                pick(SUBJECTS, 7),
                pick(ACTIONS, 3),
                pick(SETTINGS, 11)
            );
            s[..1].make_ascii_uppercase();
            match i % 4 {
                0 => {}
                1 => s.push_str(&format!(" The mood is {}.", pick(MOODS, 5))),
                2 => s.push_str(&format!(
                    " The mood is {}. {}",
                    pick(MOODS, 5),
                    pick(DETAILS, 13)
                )),
                _ => {
                    s = format!(
                        "Mood: {}. Setting: {}. {s} {}",
                        pick(MOODS, 5),
                        pick(SETTINGS, 3),
                        pick(DETAILS, 2)
                    )
                }
            }
            s
        })
        .collect()
}

fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec to write into.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn main() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // The target is 2 cores; set before any thread pool exists.
        std::env::set_var("RAYON_NUM_THREADS", "2");
    }
    let load_before = loadavg();
    let emb = Embedder::load_default().expect("load MiniLM (set CINECUT_MODELS_DIR)");
    let texts = descriptions(300);
    let ids = emb.token_ids(&texts).expect("tokenize");
    let lens: Vec<usize> = ids.iter().map(Vec::len).collect();
    let tokens: usize = lens.iter().sum();
    // Matmul work of the 6 layers: Q, K, V, output (4·384²), up and down (2·384·1536)
    // multiply-adds per token, plus q·kᵀ and p·v (2·L·384 per token and layer).
    let linear_flop = tokens as f64 * 6.0 * 2.0 * (4.0 * 384.0 * 384.0 + 2.0 * 384.0 * 1536.0);
    let attn_flop: f64 = lens
        .iter()
        .map(|&l| 6.0 * 2.0 * 2.0 * (l * l) as f64 * 384.0)
        .sum();
    println!(
        "300 descriptions, tokens min {} mean {:.1} max {} total {} (padded to the longest: {}), threads {}, bf16 kernel {}",
        lens.iter().min().unwrap(),
        tokens as f64 / lens.len() as f64,
        lens.iter().max().unwrap(),
        tokens,
        lens.iter().max().unwrap() * lens.len(),
        std::env::var("RAYON_NUM_THREADS").unwrap_or_default(),
        if bf16_supported() { "yes" } else { "no (Bf16 runs as F32)" },
    );
    println!(
        "work: {:.1} GFLOP in the linear layers + {:.1} GFLOP attention",
        linear_flop / 1e9,
        attn_flop / 1e9
    );

    // Round-robin over strategies, best of `rounds` each: on a shared machine the load
    // drifts, and timing one strategy after another would bias the ratios.
    let rounds = 3;
    let mut strategies = vec![
        Batching::SingleUnsorted,
        Batching::Unsorted { batch: 32 },
        Batching::SortedBuckets {
            max_tokens: 4096,
            parallel: true,
        },
    ];
    for precision in [Precision::F32, Precision::Bf16] {
        for max_tokens in [128, 256, 512] {
            strategies.push(Batching::Packed {
                max_tokens,
                precision,
            });
        }
    }
    // Warm-up: page in the weights, load candle's model, start the pool.
    for &b in &[Batching::SingleUnsorted, Batching::default()] {
        emb.embed_with(&texts[..16], b).expect("warm-up");
    }
    let mut best = vec![Duration::MAX; strategies.len()];
    let mut best_cpu = vec![f64::MAX; strategies.len()];
    let mut vecs = vec![Vec::new(); strategies.len()];
    for _ in 0..rounds {
        for (k, &b) in strategies.iter().enumerate() {
            let c = cpu_seconds();
            let t = Instant::now();
            vecs[k] = emb.embed_with(&texts, b).expect("embed");
            best[k] = best[k].min(t.elapsed());
            best_cpu[k] = best_cpu[k].min(cpu_seconds() - c);
        }
    }
    let reference = best[0];
    println!(
        "{:<62} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10}",
        "strategy (best of 3, round-robin)", "ms", "cpu ms", "sent/s", "ratio", "GFLOPS", "min cos"
    );
    for (k, b) in strategies.iter().enumerate() {
        let min_cos = vecs[k]
            .iter()
            .zip(&vecs[0])
            .map(|(a, b)| cosine(a, b))
            .fold(1.0f32, f32::min);
        let mut name = format!("{b:?}");
        if k == 0 {
            name.push_str(" [reference]");
        }
        if *b == Batching::default() {
            name.push_str(" [default]");
        }
        let secs = best[k].as_secs_f64();
        println!(
            "{:<62} {:>8.1} {:>8.1} {:>8.1} {:>8.3} {:>8.1} {:>10.6}",
            name,
            secs * 1e3,
            best_cpu[k] * 1e3,
            300.0 / secs,
            secs / reference.as_secs_f64(),
            (linear_flop + attn_flop) / secs / 1e9,
            min_cos
        );
    }
    println!(
        "ratio: time / reference time (lower is faster); GFLOPS: unpadded matmul work / wall time; min cos: against the reference's vectors; load average before {load_before}, after {}",
        loadavg()
    );
}
