//! Sentence embeddings: all-MiniLM-L6-v2 run in-process with candle (fp32, exact),
//! mean pooling and L2 normalisation, so scene descriptions can be compared with
//! zone anchor sentences by a dot product. No network, no Python, no C build.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use rayon::prelude::*;
use tokenizers::{Tokenizer, TruncationParams};

/// Folder name of the model inside the models directory.
pub const MODEL_NAME: &str = "all-MiniLM-L6-v2";
/// Width of every vector this module returns.
pub const DIM: usize = 384;
/// sentence-transformers' `max_seq_length` for this model; longer text is cut, as there.
pub const MAX_TOKENS: usize = 256;
/// Default bucket budget (padded tokens per forward pass), tuned by `benches/embed.rs`.
pub const DEFAULT_BUCKET_TOKENS: usize = 4096;

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
    #[error("{path} is not a usable tokenizer: {message}")]
    Tokenizer { path: PathBuf, message: String },
    #[error("{path} does not hold the MiniLM weights: {message}")]
    Weights { path: PathBuf, message: String },
    #[error("model returned {got}-d vectors, expected {DIM}-d")]
    Width { got: usize },
    #[error("embedding failed: {0}")]
    Inference(String),
}

/// The models directory: `$CINECUT_MODELS_DIR`, else `<data dir>/cinecut/models`.
pub fn models_dir() -> PathBuf {
    match std::env::var_os("CINECUT_MODELS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => dirs::data_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("cinecut")
            .join("models"),
    }
}

/// Where the MiniLM files are expected: `models_dir()/all-MiniLM-L6-v2`.
pub fn default_model_dir() -> PathBuf {
    models_dir().join(MODEL_NAME)
}

/// How texts are grouped into forward passes. Only `SortedBuckets` is meant for
/// production; the others exist so the benchmark can measure against them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batching {
    /// Everything in one batch in input order, padded to the longest text.
    SingleUnsorted,
    /// Fixed-size batches in input order, each padded to its own longest text.
    Unsorted { batch: usize },
    /// Texts sorted by token count and cut into buckets of at most `max_tokens`
    /// padded tokens, so almost no work is spent on padding.
    /// `parallel` runs buckets on rayon workers at once: candle parallelises its
    /// matmuls but not most element-wise ops, which then leave a core idle.
    SortedBuckets { max_tokens: usize, parallel: bool },
}

impl Default for Batching {
    fn default() -> Self {
        Batching::SortedBuckets {
            max_tokens: DEFAULT_BUCKET_TOKENS,
            parallel: true,
        }
    }
}

pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
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
        let config: Config =
            serde_json::from_str(&cfg_text).map_err(|source| EmbedError::Config {
                path: cfg_path.clone(),
                source,
            })?;

        let mut tokenizer = Tokenizer::from_file(&tok_path).map_err(|e| EmbedError::Tokenizer {
            path: tok_path.clone(),
            message: e.to_string(),
        })?;
        // The shipped tokenizer.json pads every text to a fixed 128 tokens; we pad per
        // bucket ourselves, and truncate where sentence-transformers does.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| EmbedError::Tokenizer {
                path: tok_path.clone(),
                message: e.to_string(),
            })?;

        let device = Device::Cpu;
        let bytes = std::fs::read(&weights).map_err(|source| EmbedError::Read {
            path: weights.clone(),
            source,
        })?;
        let weights_err = |e: candle_core::Error| EmbedError::Weights {
            path: weights.clone(),
            message: e.to_string(),
        };
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &device)
            .map_err(weights_err)?;
        let model = BertModel::load(vb, &config).map_err(weights_err)?;
        if config.hidden_size != DIM {
            return Err(EmbedError::Width {
                got: config.hidden_size,
            });
        }
        Ok(Self {
            model,
            tokenizer,
            device,
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
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Inference(format!("tokenizing: {e}")))?;
        Ok(encodings.iter().map(|e| e.get_ids().to_vec()).collect())
    }

    /// [`Embedder::embed`] with an explicit batching strategy.
    pub fn embed_with(
        &self,
        texts: &[String],
        batching: Batching,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let ids = self.token_ids(texts)?;
        let groups = group(&ids, batching);
        let run = |g: &Vec<usize>| -> Result<Vec<(usize, Vec<f32>)>, EmbedError> {
            let seqs: Vec<&[u32]> = g.iter().map(|&i| ids[i].as_slice()).collect();
            let vecs = self.forward(&seqs)?;
            Ok(g.iter().copied().zip(vecs).collect())
        };
        let parallel = matches!(batching, Batching::SortedBuckets { parallel: true, .. });
        let done: Vec<Vec<(usize, Vec<f32>)>> = if parallel {
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

    /// One forward pass over sequences padded to the longest; mean pooling over real
    /// tokens only, then L2 normalisation.
    fn forward(&self, seqs: &[&[u32]]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let n = seqs.len();
        let len = seqs.iter().map(|s| s.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![0u32; n * len];
        let mut mask = vec![0u32; n * len];
        for (row, s) in seqs.iter().enumerate() {
            ids[row * len..row * len + s.len()].copy_from_slice(s);
            mask[row * len..row * len + s.len()].fill(1);
        }
        let inf = |e: candle_core::Error| EmbedError::Inference(e.to_string());
        let ids = Tensor::from_vec(ids, (n, len), &self.device).map_err(inf)?;
        let mask = Tensor::from_vec(mask, (n, len), &self.device).map_err(inf)?;
        let types = ids.zeros_like().map_err(inf)?;
        let hidden = self.model.forward(&ids, &types, Some(&mask)).map_err(inf)?;
        let (_, _, width) = hidden.dims3().map_err(inf)?;
        if width != DIM {
            return Err(EmbedError::Width { got: width });
        }
        let hidden: Vec<Vec<Vec<f32>>> = hidden.to_vec3().map_err(inf)?;
        Ok(hidden
            .iter()
            .zip(seqs)
            .map(|(tokens, s)| pool(&tokens[..s.len()]))
            .collect())
    }
}

/// Mean of the token vectors, L2-normalised (sentence-transformers' Pooling + Normalize).
fn pool(tokens: &[Vec<f32>]) -> Vec<f32> {
    let mut sum = vec![0f64; DIM];
    for t in tokens {
        for (s, v) in sum.iter_mut().zip(t) {
            *s += f64::from(*v);
        }
    }
    let count = tokens.len().max(1) as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
    let norm = mean.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
    mean.iter().map(|v| (v / norm) as f32).collect()
}

/// Index groups, one per forward pass.
fn group(ids: &[Vec<u32>], batching: Batching) -> Vec<Vec<usize>> {
    let all: Vec<usize> = (0..ids.len()).collect();
    match batching {
        Batching::SingleUnsorted => vec![all],
        Batching::Unsorted { batch } => all.chunks(batch.max(1)).map(<[_]>::to_vec).collect(),
        Batching::SortedBuckets { max_tokens, .. } => {
            let mut order = all;
            // Longest first: the costly buckets start early, which balances rayon better.
            order.sort_by_key(|&i| std::cmp::Reverse(ids[i].len()));
            let mut groups: Vec<Vec<usize>> = Vec::new();
            let mut cur: Vec<usize> = Vec::new();
            let mut cur_len = 0;
            for i in order {
                let len = ids[i].len();
                let padded = cur_len.max(len) * (cur.len() + 1);
                if !cur.is_empty() && padded > max_tokens {
                    groups.push(std::mem::take(&mut cur));
                    cur_len = 0;
                }
                cur_len = cur_len.max(len);
                cur.push(i);
            }
            if !cur.is_empty() {
                groups.push(cur);
            }
            groups
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lens(ls: &[usize]) -> Vec<Vec<u32>> {
        ls.iter().map(|&l| vec![1; l]).collect()
    }

    #[test]
    fn buckets_cover_every_text_once_and_respect_budget() {
        let ids = lens(&[5, 40, 7, 12, 40, 3, 9, 100, 8]);
        let groups = group(
            &ids,
            Batching::SortedBuckets {
                max_tokens: 80,
                parallel: false,
            },
        );
        let mut seen: Vec<usize> = groups.iter().flatten().copied().collect();
        seen.sort();
        assert_eq!(seen, (0..ids.len()).collect::<Vec<_>>());
        for g in &groups {
            let max = g.iter().map(|&i| ids[i].len()).max().unwrap();
            // A single text longer than the budget still gets its own bucket.
            assert!(g.len() == 1 || max * g.len() <= 80, "{g:?}");
        }
    }

    #[test]
    fn unsorted_batches_keep_order() {
        let ids = lens(&[1, 2, 3, 4, 5]);
        let groups = group(&ids, Batching::Unsorted { batch: 2 });
        assert_eq!(groups, vec![vec![0, 1], vec![2, 3], vec![4]]);
    }

    #[test]
    fn pool_is_unit_length_mean() {
        let a = vec![1.0; DIM];
        let mut b = vec![0.0; DIM];
        b[0] = 3.0;
        let v = pool(&[a, b]);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
        assert!(v[0] > v[1]);
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

    // Reference vectors: made once by scripts/embed_reference.py (numpy float64 BERT
    // and a pure-Python WordPiece), independent of candle and of the tokenizers crate.
    struct Reference {
        texts: Vec<String>,
        ids: Vec<Vec<u32>>,
        vectors: Vec<Vec<f32>>,
    }

    fn reference() -> Reference {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/minilm_reference.json"
        );
        let text = std::fs::read_to_string(path).expect("reference file");
        let v: serde_json::Value = serde_json::from_str(&text).expect("reference json");
        let sentences = v["sentences"].as_array().expect("sentences");
        let mut r = Reference {
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

    #[test]
    fn vectors_match_independent_reference() {
        let emb = test_embedder();
        let r = reference();
        assert_eq!(
            emb.token_ids(&r.texts).unwrap(),
            r.ids,
            "tokenizer disagrees"
        );
        // Every batching strategy must give the same vectors: padding must not leak in.
        for batching in [
            Batching::default(),
            Batching::SingleUnsorted,
            Batching::Unsorted { batch: 3 },
            Batching::SortedBuckets {
                max_tokens: 64,
                parallel: false,
            },
        ] {
            let got = emb.embed_with(&r.texts, batching).expect("embed");
            assert_eq!(got.len(), r.texts.len());
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
