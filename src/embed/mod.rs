//! Sentence embeddings: all-MiniLM-L6-v2 run in-process, mean pooling and L2
//! normalisation, so scene descriptions can be compared with zone anchor sentences by a
//! dot product. No network, no Python, no C build.
//!
//! The production path ([`Batching::Packed`]) is a BERT forward written for this model
//! size (`model.rs`): texts are sorted by length and packed back to back with no padding
//! (attention runs per text, so no mask and no wasted rows), Q/K/V are one fused matmul,
//! bias and residual are folded into the matmul output, GELU (exact erf), softmax and
//! LayerNorm are single vectorised passes (`kernels.rs`, instruction set chosen at run
//! time), and packs run on rayon workers with single-threaded matmuls (no per-op
//! fork/join). Matmuls run either in f32 through the `gemm` crate (what candle uses;
//! matches candle to ~1e-7) or, on CPUs with AVX-512 BF16, in a small bf16 kernel with
//! f32 accumulation: twice the f32 throughput, and the vectors stay within cosine
//! 0.99997 of a float64 reference. Tokens come from `tokenizer.rs`. candle's `BertModel`
//! (`reference.rs`, feature `candle-reference`) is the reference the benchmark and the
//! tests compare against; the default build has no candle.

mod kernels;
mod model;
#[cfg(feature = "candle-reference")]
mod reference;
mod tokenizer;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

pub use kernels::bf16_supported;
#[cfg(feature = "candle-reference")]
pub use reference::DEFAULT_BUCKET_TOKENS;

/// Folder name of the model inside the models directory.
pub const MODEL_NAME: &str = "all-MiniLM-L6-v2";
/// Width of every vector this module returns.
pub const DIM: usize = 384;
/// sentence-transformers' `max_seq_length` for this model; longer text is cut, as there.
pub const MAX_TOKENS: usize = 256;
/// Width of one attention head; the own forward is written for it (MiniLM: 12 × 32).
const HEAD_DIM: usize = 32;
/// Default pack budget (real tokens per forward pass) of [`Batching::Packed`], tuned by
/// `benches/embed.rs`: small enough that a pack's activations stay in L2, large enough
/// that the matmuls run at full speed.
pub const DEFAULT_PACK_TOKENS: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(
        "embedding model file {path} is missing (run the set-up script, or set CINECUT_MODELS_DIR)"
    )]
    Missing { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid BERT config: {source}")]
    Config {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path} describes a model this embedder does not run: {message}")]
    Unsupported { path: PathBuf, message: String },
    #[error("{path} is not a usable tokenizer: {message}")]
    Tokenizer { path: PathBuf, message: String },
    #[error("{path} does not hold the MiniLM weights: {message}")]
    Weights { path: PathBuf, message: String },
    #[error("model returned {got}-d vectors, expected {DIM}-d")]
    Width { got: usize },
    #[error("embedding failed: {0}")]
    Inference(String),
}

/// Where the MiniLM files are expected: `models_dir()/all-MiniLM-L6-v2`.
pub fn default_model_dir() -> PathBuf {
    crate::models::models_dir().join(MODEL_NAME)
}

/// Number format of the matmuls in [`Batching::Packed`]; everything else (attention,
/// softmax, LayerNorm, GELU, pooling) is f32 either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// f32 through the `gemm` crate: the same arithmetic as candle.
    F32,
    /// Weights and matmul inputs rounded to bf16, products summed in f32 (AVX-512
    /// BF16 `vdpbf16ps`). Runs as [`Precision::F32`] on CPUs without it.
    Bf16,
}

impl Precision {
    /// [`Precision::Bf16`] where the CPU has it, else [`Precision::F32`].
    pub fn fastest() -> Self {
        if bf16_supported() {
            Precision::Bf16
        } else {
            Precision::F32
        }
    }
}

/// How texts are run. Only `Packed` is meant for production; the candle strategies
/// (feature `candle-reference`) exist so the benchmark and the tests can measure and
/// check against them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batching {
    /// candle, everything in one batch in input order, padded to the longest text.
    #[cfg(feature = "candle-reference")]
    SingleUnsorted,
    /// candle, fixed-size batches in input order, each padded to its own longest text.
    #[cfg(feature = "candle-reference")]
    Unsorted { batch: usize },
    /// candle, texts sorted by token count and cut into buckets of at most
    /// `max_tokens` padded tokens; `parallel` runs buckets on rayon workers at once.
    #[cfg(feature = "candle-reference")]
    SortedBuckets { max_tokens: usize, parallel: bool },
    /// Own forward: texts sorted by token count and packed without padding into
    /// passes of at most `max_tokens` real tokens (at least one pass per rayon thread),
    /// the passes run on rayon workers.
    Packed {
        max_tokens: usize,
        precision: Precision,
    },
}

impl Default for Batching {
    fn default() -> Self {
        Batching::Packed {
            max_tokens: DEFAULT_PACK_TOKENS,
            precision: Precision::fastest(),
        }
    }
}

impl Batching {
    /// Whether the passes run on rayon workers at once.
    fn parallel(self) -> bool {
        match self {
            Batching::Packed { .. } => true,
            #[cfg(feature = "candle-reference")]
            Batching::SortedBuckets { parallel, .. } => parallel,
            #[cfg(feature = "candle-reference")]
            Batching::SingleUnsorted | Batching::Unsorted { .. } => false,
        }
    }
}

pub struct Embedder {
    net: model::Net,
    tokenizer: tokenizer::Tokenizer,
    /// candle's model, for the reference strategies only; loaded on first use.
    #[cfg(feature = "candle-reference")]
    candle: reference::Candle,
}

impl Embedder {
    /// Loads `model.safetensors`, `tokenizer.json` and `config.json` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let weights = existing(dir.join("model.safetensors"))?;
        let tok_path = existing(dir.join("tokenizer.json"))?;
        let cfg_path = existing(dir.join("config.json"))?;

        let cfg_text = std::fs::read_to_string(&cfg_path).map_err(|source| EmbedError::Read {
            path: cfg_path.clone(),
            source,
        })?;
        let config: model::Config =
            serde_json::from_str(&cfg_text).map_err(|source| EmbedError::Config {
                path: cfg_path.clone(),
                source,
            })?;
        model::check_config(&config).map_err(|message| EmbedError::Unsupported {
            path: cfg_path.clone(),
            message,
        })?;
        #[cfg(feature = "candle-reference")]
        let candle = reference::Candle::new(&weights, &cfg_path, &cfg_text)?;

        let tokenizer = tokenizer::Tokenizer::load(&tok_path)?;

        let bytes = std::fs::read(&weights).map_err(|source| EmbedError::Read {
            path: weights.clone(),
            source,
        })?;
        let net = model::Net::load(&bytes, &config).map_err(|message| EmbedError::Weights {
            path: weights.clone(),
            message,
        })?;
        Ok(Self {
            net,
            tokenizer,
            #[cfg(feature = "candle-reference")]
            candle,
        })
    }

    /// Loads from [`default_model_dir`].
    pub fn load_default() -> Result<Self, EmbedError> {
        Self::load(&default_model_dir())
    }

    /// One 384-d, L2-normalised vector per text, in input order.
    pub fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.embed_with(texts, Batching::default())
    }

    /// Token ids per text, as the model sees them ([CLS] … [SEP]).
    pub fn token_ids(&self, texts: &[String]) -> Result<Vec<Vec<u32>>, EmbedError> {
        self.tokenizer.ids(texts)
    }

    /// [`Embedder::embed`] with an explicit strategy.
    pub fn embed_with(
        &self,
        texts: &[String],
        batching: Batching,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let ids = self.token_ids(texts)?;
        let groups = group(&ids, batching, rayon::current_num_threads());
        let run = |g: &Vec<usize>| -> Result<Vec<(usize, Vec<f32>)>, EmbedError> {
            let seqs: Vec<&[u32]> = g.iter().map(|&i| ids[i].as_slice()).collect();
            let vecs = match batching {
                Batching::Packed { precision, .. } => {
                    let precision = if bf16_supported() {
                        precision
                    } else {
                        Precision::F32
                    };
                    self.net.forward(&seqs, precision)?
                }
                #[cfg(feature = "candle-reference")]
                _ => self.candle.forward(&seqs)?,
            };
            Ok(g.iter().copied().zip(vecs).collect())
        };
        let done: Vec<Vec<(usize, Vec<f32>)>> = if batching.parallel() {
            groups.par_iter().map(run).collect::<Result<_, _>>()?
        } else {
            groups.iter().map(run).collect::<Result<_, _>>()?
        };
        let mut out = vec![Vec::new(); texts.len()];
        for (i, v) in done.into_iter().flatten() {
            out[i] = v;
        }
        Ok(out)
    }
}

/// Index groups, one per forward pass.
fn group(ids: &[Vec<u32>], batching: Batching, threads: usize) -> Vec<Vec<usize>> {
    match batching {
        Batching::Packed { max_tokens, .. } => packs(ids, max_tokens, threads),
        #[cfg(feature = "candle-reference")]
        Batching::SingleUnsorted => vec![(0..ids.len()).collect()],
        #[cfg(feature = "candle-reference")]
        Batching::Unsorted { batch } => {
            let all: Vec<usize> = (0..ids.len()).collect();
            all.chunks(batch.max(1)).map(<[_]>::to_vec).collect()
        }
        #[cfg(feature = "candle-reference")]
        Batching::SortedBuckets { max_tokens, .. } => reference::buckets(ids, max_tokens),
    }
}

/// Text indices, the most tokens first: the costly passes start early, which
/// balances rayon better.
fn longest_first(ids: &[Vec<u32>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(ids[i].len()));
    order
}

/// Passes of at most `max_tokens` real tokens, longest texts first.
fn packs(ids: &[Vec<u32>], max_tokens: usize, threads: usize) -> Vec<Vec<usize>> {
    // No padding: a pass costs its real tokens. Cap the budget so that every
    // rayon thread gets a pass even for a handful of texts.
    let total: usize = ids.iter().map(Vec::len).sum();
    let budget = max_tokens.min(total.div_ceil(threads.max(1))).max(1);
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut cur: Vec<usize> = Vec::new();
    let mut cur_tokens = 0;
    for i in longest_first(ids) {
        let len = ids[i].len();
        if !cur.is_empty() && cur_tokens + len > budget {
            groups.push(std::mem::take(&mut cur));
            cur_tokens = 0;
        }
        cur_tokens += len;
        cur.push(i);
    }
    if !cur.is_empty() {
        groups.push(cur);
    }
    groups
}

/// Dot product; equals the cosine for vectors from [`Embedder::embed`].
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

fn existing(path: PathBuf) -> Result<PathBuf, EmbedError> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(EmbedError::Missing { path })
    }
}

/// The real embedder for tests, loaded once per test binary: fails (never skips)
/// with the path when the weights are missing.
#[cfg(test)]
pub(crate) fn test_embedder() -> &'static Embedder {
    static EMB: std::sync::OnceLock<Embedder> = std::sync::OnceLock::new();
    EMB.get_or_init(|| {
        let dir = default_model_dir();
        for f in ["model.safetensors", "tokenizer.json", "config.json"] {
            assert!(
                dir.join(f).is_file(),
                "missing {} — run the set-up script or set CINECUT_MODELS_DIR",
                dir.join(f).display()
            );
        }
        Embedder::load(&dir).expect("load MiniLM")
    })
}

/// Reference vectors: made once by scripts/embed_reference.py (numpy float64 BERT
/// and a pure-Python WordPiece), independent of candle and of the tokenizers crate.
#[cfg(test)]
pub(crate) struct NumpyReference {
    pub(crate) texts: Vec<String>,
    pub(crate) ids: Vec<Vec<u32>>,
    pub(crate) vectors: Vec<Vec<f32>>,
}

#[cfg(test)]
pub(crate) fn numpy_reference() -> NumpyReference {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/minilm_reference.json"
    );
    let text = std::fs::read_to_string(path).expect("reference file");
    let v: serde_json::Value = serde_json::from_str(&text).expect("reference json");
    let sentences = v["sentences"].as_array().expect("sentences");
    let mut r = NumpyReference {
        texts: vec![],
        ids: vec![],
        vectors: vec![],
    };
    for s in sentences {
        r.texts.push(s["text"].as_str().unwrap().to_string());
        r.ids.push(
            s["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u32)
                .collect(),
        );
        r.vectors.push(
            s["vector"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect(),
        );
    }
    assert!(r.texts.len() >= 5);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn lens(ls: &[usize]) -> Vec<Vec<u32>> {
        ls.iter().map(|&l| vec![1; l]).collect()
    }

    #[test]
    fn packs_cover_every_text_once_without_padding_budget() {
        let ids = lens(&[5, 40, 7, 12, 40, 3, 9, 100, 8]);
        let packed = |max_tokens, threads| {
            group(
                &ids,
                Batching::Packed {
                    max_tokens,
                    precision: Precision::F32,
                },
                threads,
            )
        };
        for (max_tokens, threads) in [(64, 1), (1000, 2), (1000, 1)] {
            let groups = packed(max_tokens, threads);
            let mut seen: Vec<usize> = groups.iter().flatten().copied().collect();
            seen.sort();
            assert_eq!(seen, (0..ids.len()).collect::<Vec<_>>());
            let total: usize = ids.iter().map(Vec::len).sum();
            let budget = max_tokens.min(total.div_ceil(threads));
            for g in &groups {
                let tokens: usize = g.iter().map(|&i| ids[i].len()).sum();
                assert!(
                    g.len() == 1 || tokens <= budget,
                    "{g:?} {tokens} > {budget}"
                );
            }
        }
        // Two threads get two passes even when everything fits in one budget.
        assert!(packed(1000, 2).len() >= 2);
        assert_eq!(packed(1000, 1).len(), 1);
    }

    #[test]
    fn missing_dir_names_the_file() {
        let err = Embedder::load(Path::new("/nonexistent/minilm"))
            .err()
            .expect("must fail");
        assert!(err
            .to_string()
            .contains("/nonexistent/minilm/model.safetensors"));
    }

    #[test]
    fn vectors_match_independent_reference() {
        let emb = test_embedder();
        let r = numpy_reference();
        assert_eq!(
            emb.token_ids(&r.texts).unwrap(),
            r.ids,
            "tokenizer disagrees"
        );
        // Every strategy must give the same vectors: padding must not leak in, packing
        // must not mix texts, and the bf16 matmuls must stay within the bound.
        if !bf16_supported() {
            eprintln!("this CPU has no AVX-512 BF16: Precision::Bf16 runs as F32 here");
        }
        #[allow(unused_mut)] // the candle strategies join with the feature
        let mut strategies = vec![
            Batching::default(),
            Batching::Packed {
                max_tokens: 20,
                precision: Precision::F32,
            },
            Batching::Packed {
                max_tokens: 20,
                precision: Precision::Bf16,
            },
            Batching::Packed {
                max_tokens: 4096,
                precision: Precision::F32,
            },
        ];
        #[cfg(feature = "candle-reference")]
        strategies.extend([
            Batching::SingleUnsorted,
            Batching::Unsorted { batch: 3 },
            Batching::SortedBuckets {
                max_tokens: 64,
                parallel: false,
            },
        ]);
        for batching in strategies {
            let got = emb.embed_with(&r.texts, batching).expect("embed");
            assert_eq!(got.len(), r.texts.len());
            let min = got
                .iter()
                .zip(&r.vectors)
                .map(|(g, want)| cosine(g, want))
                .fold(1.0f32, f32::min);
            eprintln!("{batching:?}: min cosine {min:.7} against the reference");
            for (i, (g, want)) in got.iter().zip(&r.vectors).enumerate() {
                assert_eq!(g.len(), DIM);
                let norm: f32 = g.iter().map(|x| x * x).sum::<f32>().sqrt();
                assert!((norm - 1.0).abs() < 1e-4, "not normalised: {norm}");
                let c = cosine(g, want);
                assert!(
                    c >= 0.9999,
                    "{batching:?}: sentence {i} {:?} cosine {c}",
                    r.texts[i]
                );
            }
        }
    }

    #[test]
    fn f32_forward_matches_the_float64_reference_tightly() {
        // The f32 forward is float64's arithmetic to f32 rounding (measured 0.9999998):
        // this bound, not candle, guards it in a build without the reference.
        let emb = test_embedder();
        let r = numpy_reference();
        let f32_path = Batching::Packed {
            max_tokens: 64,
            precision: Precision::F32,
        };
        let got = emb.embed_with(&r.texts, f32_path).expect("embed");
        for (i, (g, want)) in got.iter().zip(&r.vectors).enumerate() {
            let c = cosine(g, want);
            assert!(c >= 0.999_999, "f32: sentence {i} cosine {c}");
        }
    }

    #[test]
    fn malformed_model_files_fail_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let src = default_model_dir();
        for f in ["tokenizer.json", "config.json"] {
            std::fs::copy(src.join(f), dir.path().join(f)).expect("model files");
        }
        std::fs::write(
            dir.path().join("model.safetensors"),
            b"not a safetensors file",
        )
        .unwrap();
        let err = Embedder::load(dir.path()).err().expect("must fail");
        assert!(matches!(err, EmbedError::Weights { .. }), "{err}");
        assert!(err.to_string().contains("model.safetensors"), "{err}");
        // A config of another architecture is refused by name, not run wrongly.
        let cfg = std::fs::read_to_string(src.join("config.json")).unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            cfg.replace("\"gelu\"", "\"relu\""),
        )
        .unwrap();
        let err = Embedder::load(dir.path()).err().expect("must fail");
        assert!(err.to_string().contains("config.json"), "{err}");
        assert!(err.to_string().contains("hidden_act"), "{err}");
    }

    #[test]
    fn similar_sentences_are_closer_than_unrelated_ones() {
        let emb = test_embedder();
        let t = |s: &str| s.to_string();
        let v = emb
            .embed(&[
                t("A huge explosion destroys the building."),
                t("The tower blows up in a giant fireball."),
                t("A child quietly reads a book in the garden."),
            ])
            .unwrap();
        assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]) + 0.2);
    }

    #[test]
    fn empty_and_overlong_texts_still_embed() {
        let emb = test_embedder();
        assert!(emb.embed(&[]).unwrap().is_empty());
        // An empty string gets a vector ([CLS] [SEP] only), and a text far beyond the
        // model's 512 positions is truncated to MAX_TOKENS instead of failing.
        let long = "the hero runs through the burning city ".repeat(200);
        let ids = emb.token_ids(std::slice::from_ref(&long)).unwrap();
        assert_eq!(ids[0].len(), MAX_TOKENS);
        let v = emb.embed(&[String::new(), long]).unwrap();
        assert_eq!(v.len(), 2);
        assert!(v
            .iter()
            .all(|x| x.len() == DIM && x.iter().all(|f| f.is_finite())));
    }
}
