//! Embedding benchmark: 300 varied scene descriptions on 2 threads (set
//! RAYON_NUM_THREADS to change), each batching strategy timed in the same run and
//! reported as a ratio of the naive reference (one unsorted batch).
//! Run: `cargo bench --bench embed` (needs the real MiniLM weights).

use std::time::{Duration, Instant};

use cinecut::embed::{cosine, Batching, Embedder};

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

fn main() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // The target is 2 cores; set before any thread pool exists.
        std::env::set_var("RAYON_NUM_THREADS", "2");
    }
    let emb = Embedder::load_default().expect("load MiniLM (set CINECUT_MODELS_DIR)");
    let texts = descriptions(300);
    let ids = emb.token_ids(&texts).expect("tokenize");
    let lens: Vec<usize> = ids.iter().map(Vec::len).collect();
    println!(
        "300 descriptions, tokens min {} mean {:.1} max {}, threads {}",
        lens.iter().min().unwrap(),
        lens.iter().sum::<usize>() as f64 / lens.len() as f64,
        lens.iter().max().unwrap(),
        std::env::var("RAYON_NUM_THREADS").unwrap_or_default()
    );
    // Warm-up (page in the weights, start the pool).
    emb.embed(&texts[..16]).expect("warm-up");

    // Round-robin over strategies, best of `rounds` each: on a shared machine the load
    // drifts, and timing one strategy after another would bias the ratios.
    let rounds = 2;
    let mut strategies = vec![Batching::SingleUnsorted, Batching::Unsorted { batch: 32 }];
    for (max_tokens, parallel) in [
        (1024, true),
        (2048, true),
        (4096, false),
        (4096, true),
        (8192, true),
    ] {
        strategies.push(Batching::SortedBuckets {
            max_tokens,
            parallel,
        });
    }
    let mut best = vec![Duration::MAX; strategies.len()];
    let mut vecs = vec![Vec::new(); strategies.len()];
    for _ in 0..rounds {
        for (k, &b) in strategies.iter().enumerate() {
            let t = Instant::now();
            vecs[k] = emb.embed_with(&texts, b).expect("embed");
            best[k] = best[k].min(t.elapsed());
        }
    }
    let reference = best[0];
    println!(
        "{:<55} {:>8} {:>10} {:>8} {:>10}",
        "strategy (best of 2, round-robin)", "ms", "sent/s", "ratio", "min cos"
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
        println!(
            "{:<55} {:>8.1} {:>10.1} {:>8.3} {:>10.6}",
            name,
            best[k].as_secs_f64() * 1e3,
            300.0 / best[k].as_secs_f64(),
            best[k].as_secs_f64() / reference.as_secs_f64(),
            min_cos
        );
    }
}
