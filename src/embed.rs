//! Sentence embeddings: all-MiniLM-L6-v2 run in-process, mean pooling and L2
//! normalisation, so scene descriptions can be compared with zone anchor sentences by a
//! dot product. No network, no Python, no C build.
//!
//! The production path ([`Batching::Packed`]) is a BERT forward written for this model
//! size: texts are sorted by length and packed back to back with no padding (attention
//! runs per text, so no mask and no wasted rows), Q/K/V are one fused matmul, bias and
//! residual are folded into the matmul output, GELU (exact erf), softmax and LayerNorm are
//! single vectorised passes, and packs run on rayon workers with single-threaded matmuls
//! (no per-op fork/join). Matmuls run either in f32 through the `gemm` crate (what candle
//! uses; matches candle to ~1e-7) or, on CPUs with AVX-512 BF16, in a small bf16 kernel
//! with f32 accumulation: twice the f32 throughput, and the vectors stay within cosine
//! 0.99997 of a float64 reference. candle's `BertModel` is kept, loaded only on demand,
//! as the reference the benchmark and the tests compare against.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config, HiddenAct, PositionEmbeddingType};
use rayon::prelude::*;
use tokenizers::{Tokenizer, TruncationParams};

/// Folder name of the model inside the models directory.
pub const MODEL_NAME: &str = "all-MiniLM-L6-v2";
/// Width of every vector this module returns.
pub const DIM: usize = 384;
/// sentence-transformers' `max_seq_length` for this model; longer text is cut, as there.
pub const MAX_TOKENS: usize = 256;
/// Width of one attention head; the own forward is written for it (MiniLM: 12 × 32).
const HEAD_DIM: usize = 32;
/// Default bucket budget (padded tokens per forward pass) of the candle strategies.
pub const DEFAULT_BUCKET_TOKENS: usize = 4096;
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

/// Whether this CPU runs the bf16 matmul kernel (AVX-512 F/BW/VL + BF16).
pub fn bf16_supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx512bf16")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// How texts are run. Only `Packed` is meant for production; the candle strategies
/// exist so the benchmark and the tests can measure and check against them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batching {
    /// candle, everything in one batch in input order, padded to the longest text.
    SingleUnsorted,
    /// candle, fixed-size batches in input order, each padded to its own longest text.
    Unsorted { batch: usize },
    /// candle, texts sorted by token count and cut into buckets of at most
    /// `max_tokens` padded tokens; `parallel` runs buckets on rayon workers at once.
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

pub struct Embedder {
    net: Net,
    tokenizer: Tokenizer,
    weights: PathBuf,
    config: Config,
    /// candle's model, for the reference strategies only; loaded on first use.
    candle: OnceLock<BertModel>,
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
        check_config(&config).map_err(|message| EmbedError::Unsupported {
            path: cfg_path.clone(),
            message,
        })?;

        let mut tokenizer = Tokenizer::from_file(&tok_path).map_err(|e| EmbedError::Tokenizer {
            path: tok_path.clone(),
            message: e.to_string(),
        })?;
        // The shipped tokenizer.json pads every text to a fixed 128 tokens; we never pad
        // (packs) or pad per bucket ourselves, and truncate where sentence-transformers does.
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

        let bytes = std::fs::read(&weights).map_err(|source| EmbedError::Read {
            path: weights.clone(),
            source,
        })?;
        let net = Net::load(&bytes, &config).map_err(|message| EmbedError::Weights {
            path: weights.clone(),
            message,
        })?;
        Ok(Self {
            net,
            tokenizer,
            weights,
            config,
            candle: OnceLock::new(),
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
                _ => self.candle_forward(&seqs)?,
            };
            Ok(g.iter().copied().zip(vecs).collect())
        };
        let parallel = matches!(
            batching,
            Batching::SortedBuckets { parallel: true, .. } | Batching::Packed { .. }
        );
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

    fn candle_model(&self) -> Result<&BertModel, EmbedError> {
        if let Some(m) = self.candle.get() {
            return Ok(m);
        }
        let err = |e: candle_core::Error| EmbedError::Weights {
            path: self.weights.clone(),
            message: e.to_string(),
        };
        let bytes = std::fs::read(&self.weights).map_err(|source| EmbedError::Read {
            path: self.weights.clone(),
            source,
        })?;
        let vb =
            VarBuilder::from_buffered_safetensors(bytes, DType::F32, &Device::Cpu).map_err(err)?;
        let model = BertModel::load(vb, &self.config).map_err(err)?;
        // A racing thread may have loaded it too; either copy is the same model.
        Ok(self.candle.get_or_init(|| model))
    }

    /// One candle forward pass over sequences padded to the longest; mean pooling over
    /// real tokens only, then L2 normalisation.
    fn candle_forward(&self, seqs: &[&[u32]]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let model = self.candle_model()?;
        let device = Device::Cpu;
        let n = seqs.len();
        let len = seqs.iter().map(|s| s.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![0u32; n * len];
        let mut mask = vec![0u32; n * len];
        for (row, s) in seqs.iter().enumerate() {
            ids[row * len..row * len + s.len()].copy_from_slice(s);
            mask[row * len..row * len + s.len()].fill(1);
        }
        let inf = |e: candle_core::Error| EmbedError::Inference(e.to_string());
        let ids = Tensor::from_vec(ids, (n, len), &device).map_err(inf)?;
        let mask = Tensor::from_vec(mask, (n, len), &device).map_err(inf)?;
        let types = ids.zeros_like().map_err(inf)?;
        let hidden = model.forward(&ids, &types, Some(&mask)).map_err(inf)?;
        let (_, _, width) = hidden.dims3().map_err(inf)?;
        if width != DIM {
            return Err(EmbedError::Width { got: width });
        }
        let hidden: Vec<Vec<Vec<f32>>> = hidden.to_vec3().map_err(inf)?;
        Ok(hidden
            .iter()
            .zip(seqs)
            .map(|(tokens, s)| pool(tokens[..s.len()].iter().map(Vec::as_slice)))
            .collect())
    }
}

/// What the own forward supports: BERT with erf GELU, absolute positions, DIM wide.
fn check_config(c: &Config) -> Result<(), String> {
    if c.hidden_size != DIM {
        return Err(format!("hidden_size {} (expected {DIM})", c.hidden_size));
    }
    if c.hidden_act != HiddenAct::Gelu {
        return Err(format!("hidden_act {:?} (expected gelu)", c.hidden_act));
    }
    if c.position_embedding_type != PositionEmbeddingType::Absolute {
        return Err("position_embedding_type must be absolute".into());
    }
    if c.num_attention_heads * HEAD_DIM != c.hidden_size {
        return Err(format!(
            "{} attention heads of hidden_size {} are not {HEAD_DIM} wide",
            c.num_attention_heads, c.hidden_size
        ));
    }
    if c.max_position_embeddings < MAX_TOKENS {
        return Err(format!(
            "max_position_embeddings {} < {MAX_TOKENS}",
            c.max_position_embeddings
        ));
    }
    Ok(())
}

/// Mean of the token vectors, L2-normalised (sentence-transformers' Pooling + Normalize).
fn pool<'a>(tokens: impl Iterator<Item = &'a [f32]>) -> Vec<f32> {
    let mut sum = vec![0f64; DIM];
    let mut count = 0usize;
    for t in tokens {
        for (s, v) in sum.iter_mut().zip(t) {
            *s += f64::from(*v);
        }
        count += 1;
    }
    let count = count.max(1) as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
    let norm = mean.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
    mean.iter().map(|v| (v / norm) as f32).collect()
}

/// Index groups, one per forward pass.
fn group(ids: &[Vec<u32>], batching: Batching, threads: usize) -> Vec<Vec<usize>> {
    let all: Vec<usize> = (0..ids.len()).collect();
    // Longest first: the costly passes start early, which balances rayon better.
    let sorted = |mut order: Vec<usize>| {
        order.sort_by_key(|&i| std::cmp::Reverse(ids[i].len()));
        order
    };
    match batching {
        Batching::SingleUnsorted => vec![all],
        Batching::Unsorted { batch } => all.chunks(batch.max(1)).map(<[_]>::to_vec).collect(),
        Batching::SortedBuckets { max_tokens, .. } => {
            let mut groups: Vec<Vec<usize>> = Vec::new();
            let mut cur: Vec<usize> = Vec::new();
            let mut cur_len = 0;
            for i in sorted(all) {
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
        Batching::Packed { max_tokens, .. } => {
            // No padding: a pass costs its real tokens. Cap the budget so that every
            // rayon thread gets a pass even for a handful of texts.
            let total: usize = ids.iter().map(Vec::len).sum();
            let budget = max_tokens.min(total.div_ceil(threads.max(1))).max(1);
            let mut groups: Vec<Vec<usize>> = Vec::new();
            let mut cur: Vec<usize> = Vec::new();
            let mut cur_tokens = 0;
            for i in sorted(all) {
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

// ---------------------------------------------------------------------------------
// The own forward.

/// A PyTorch `Linear`: `w` is [n][k] (out, in), `y = x wᵀ + b`.
struct Linear {
    w: Vec<f32>,
    b: Vec<f32>,
    n: usize,
    k: usize,
    /// `w` rounded to bf16 and laid out for the bf16 kernel, where the CPU has one.
    #[cfg(target_arch = "x86_64")]
    packed: Option<bf16::PackedB>,
}

impl Linear {
    fn new(w: Vec<f32>, b: Vec<f32>, n: usize, k: usize) -> Self {
        #[cfg(target_arch = "x86_64")]
        let packed = if bf16_supported() {
            bf16::PackedB::new(&w, n, k)
        } else {
            None
        };
        Linear {
            w,
            b,
            n,
            k,
            #[cfg(target_arch = "x86_64")]
            packed,
        }
    }

    /// `out[m][n] = x[m][k] wᵀ + b (+ add)`: bias and residual are written first and the
    /// matmul accumulates onto them, so neither costs a pass of its own.
    fn forward(
        &self,
        x: &[f32],
        m: usize,
        add: Option<&[f32]>,
        out: &mut [f32],
        precision: Precision,
        scratch: &mut Vec<u16>,
    ) {
        let (n, k) = (self.n, self.k);
        let out = &mut out[..m * n];
        let x = &x[..m * k];
        match add {
            Some(add) => {
                for (o, a) in out.chunks_exact_mut(n).zip(add.chunks_exact(n)) {
                    for ((o, a), b) in o.iter_mut().zip(a).zip(&self.b) {
                        *o = a + b;
                    }
                }
            }
            None => {
                for o in out.chunks_exact_mut(n) {
                    o.copy_from_slice(&self.b);
                }
            }
        }
        #[cfg(target_arch = "x86_64")]
        if let (Precision::Bf16, Some(packed)) = (precision, &self.packed) {
            scratch.resize(m * k, 0);
            bf16::convert(x, scratch);
            packed.gemm(scratch, m, out);
            return;
        }
        let _ = (precision, scratch);
        // SAFETY: the strides describe x as [m][k] and out as [m][n] row-major and w as
        // [n][k] read transposed; the slices above are exactly that long.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                out.as_mut_ptr(),
                1,
                n as isize,
                true,
                x.as_ptr(),
                1,
                k as isize,
                self.w.as_ptr(),
                k as isize,
                1,
                1.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
    }
}

struct Layer {
    qkv: Linear,
    attn_out: Linear,
    ln1: (Vec<f32>, Vec<f32>),
    up: Linear,
    down: Linear,
    ln2: (Vec<f32>, Vec<f32>),
}

struct Net {
    ff: usize,
    eps: f32,
    vocab: usize,
    max_pos: usize,
    word: Vec<f32>,
    pos: Vec<f32>,
    type0: Vec<f32>,
    ln: (Vec<f32>, Vec<f32>),
    layers: Vec<Layer>,
}

impl Net {
    fn load(bytes: &[u8], c: &Config) -> Result<Self, String> {
        let map: HashMap<String, Tensor> =
            candle_core::safetensors::load_buffer(bytes, &Device::Cpu)
                .map_err(|e| e.to_string())?;
        // Both the bare BertModel names and the `bert.`-prefixed ones of a BertFor* model.
        let get = |name: &str, len: usize| -> Result<Vec<f32>, String> {
            let t = map
                .get(name)
                .or_else(|| map.get(&format!("bert.{name}")))
                .ok_or_else(|| format!("no tensor {name}"))?;
            let v: Vec<f32> = t
                .to_dtype(DType::F32)
                .and_then(|t| t.flatten_all())
                .and_then(|t| t.to_vec1())
                .map_err(|e| format!("{name}: {e}"))?;
            if v.len() < len {
                return Err(format!("{name} has {} values, expected {len}", v.len()));
            }
            Ok(v)
        };
        let (d, ff) = (c.hidden_size, c.intermediate_size);
        let ln = |p: &str| -> Result<(Vec<f32>, Vec<f32>), String> {
            Ok((
                get(&format!("{p}.weight"), d)?,
                get(&format!("{p}.bias"), d)?,
            ))
        };
        let linear = |p: &str, n: usize, k: usize| -> Result<Linear, String> {
            Ok(Linear::new(
                get(&format!("{p}.weight"), n * k)?[..n * k].to_vec(),
                get(&format!("{p}.bias"), n)?[..n].to_vec(),
                n,
                k,
            ))
        };
        let mut layers = Vec::with_capacity(c.num_hidden_layers);
        for l in 0..c.num_hidden_layers {
            let p = format!("encoder.layer.{l}");
            let a = format!("{p}.attention.self");
            // Q, K and V stacked into one [3d][d] matmul.
            let mut w = Vec::with_capacity(3 * d * d);
            let mut b = Vec::with_capacity(3 * d);
            for part in ["query", "key", "value"] {
                w.extend_from_slice(&get(&format!("{a}.{part}.weight"), d * d)?[..d * d]);
                b.extend_from_slice(&get(&format!("{a}.{part}.bias"), d)?[..d]);
            }
            layers.push(Layer {
                qkv: Linear::new(w, b, 3 * d, d),
                attn_out: linear(&format!("{p}.attention.output.dense"), d, d)?,
                ln1: ln(&format!("{p}.attention.output.LayerNorm"))?,
                up: linear(&format!("{p}.intermediate.dense"), ff, d)?,
                down: linear(&format!("{p}.output.dense"), d, ff)?,
                ln2: ln(&format!("{p}.output.LayerNorm"))?,
            });
        }
        let word = get("embeddings.word_embeddings.weight", c.vocab_size * d)?;
        let pos = get(
            "embeddings.position_embeddings.weight",
            c.max_position_embeddings * d,
        )?;
        Ok(Net {
            ff,
            eps: c.layer_norm_eps as f32,
            vocab: c.vocab_size.min(word.len() / d),
            max_pos: c.max_position_embeddings.min(pos.len() / d),
            word,
            pos,
            type0: get("embeddings.token_type_embeddings.weight", d)?[..d].to_vec(),
            ln: ln("embeddings.LayerNorm")?,
            layers,
        })
    }

    /// All `seqs` in one pass, packed back to back: [total tokens][DIM] activations.
    fn forward(&self, seqs: &[&[u32]], precision: Precision) -> Result<Vec<Vec<f32>>, EmbedError> {
        const D: usize = DIM;
        let t: usize = seqs.iter().map(|s| s.len()).sum();
        let mut x = vec![0f32; t * D];
        let mut rows = x.chunks_exact_mut(D);
        for s in seqs {
            if s.len() > self.max_pos {
                return Err(EmbedError::Inference(format!(
                    "{} tokens exceed the model's {} positions",
                    s.len(),
                    self.max_pos
                )));
            }
            for (p, &id) in s.iter().enumerate() {
                let id = id as usize;
                if id >= self.vocab {
                    return Err(EmbedError::Inference(format!(
                        "token id {id} outside the vocabulary of {}",
                        self.vocab
                    )));
                }
                let row = rows.next().expect("t rows");
                let w = &self.word[id * D..][..D];
                let pe = &self.pos[p * D..][..D];
                for (((o, w), pe), ty) in row.iter_mut().zip(w).zip(pe).zip(&self.type0) {
                    *o = w + pe + ty;
                }
            }
        }
        layer_norm(&mut x, &self.ln.0, &self.ln.1, self.eps);

        let scale = 1.0 / (HEAD_DIM as f32).sqrt();
        let maxl = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
        let mut qkv = vec![0f32; t * 3 * D];
        let mut ctx = vec![0f32; t * D];
        let mut mid = vec![0f32; t * D];
        let mut hid = vec![0f32; t * self.ff];
        let mut scores = Vec::with_capacity(maxl.div_ceil(16) * 16);
        let mut kt = Vec::with_capacity(HEAD_DIM * maxl.div_ceil(16) * 16);
        let mut scratch = Vec::new();
        for l in &self.layers {
            l.qkv
                .forward(&x, t, None, &mut qkv, precision, &mut scratch);
            let mut start = 0;
            for s in seqs {
                let n = s.len();
                attention(&qkv, &mut ctx, start, n, scale, &mut kt, &mut scores);
                start += n;
            }
            l.attn_out
                .forward(&ctx, t, Some(&x), &mut mid, precision, &mut scratch);
            layer_norm(&mut mid, &l.ln1.0, &l.ln1.1, self.eps);
            l.up.forward(&mid, t, None, &mut hid, precision, &mut scratch);
            gelu(&mut hid);
            l.down
                .forward(&hid, t, Some(&mid), &mut x, precision, &mut scratch);
            layer_norm(&mut x, &l.ln2.0, &l.ln2.1, self.eps);
        }

        let mut out = Vec::with_capacity(seqs.len());
        let mut start = 0;
        for s in seqs {
            out.push(pool(x[start * D..(start + s.len()) * D].chunks_exact(D)));
            start += s.len();
        }
        Ok(out)
    }
}

/// Self-attention of one text: the `n` tokens from row `start` of `qkv`, all heads,
/// softmax(q kᵀ·scale) v written into `ctx`. No mask: a pack holds no padding.
/// Per head, kᵀ is copied once into rows padded to 16, so a query's scores are 16 keys
/// at a time of plain vector FMAs and its context one [f32; HEAD_DIM] accumulator, both
/// held in registers: no horizontal sums, and none of a general matmul's set-up for
/// these tiny shapes.
#[inline(always)]
fn attention_body(
    qkv: &[f32],
    ctx: &mut [f32],
    start: usize,
    n: usize,
    scale: f32,
    kt: &mut Vec<f32>,
    scores: &mut Vec<f32>,
) {
    const D: usize = DIM;
    let np = n.div_ceil(16) * 16;
    kt.clear();
    kt.resize(HEAD_DIM * np, 0.0);
    scores.clear();
    scores.resize(np, 0.0);
    let rows = &qkv[start * 3 * D..(start + n) * 3 * D];
    let out = &mut ctx[start * D..(start + n) * D];
    for col in (0..D).step_by(HEAD_DIM) {
        for (j, row) in rows.chunks_exact(3 * D).enumerate() {
            for (d, &v) in row[D + col..D + col + HEAD_DIM].iter().enumerate() {
                kt[d * np + j] = v;
            }
        }
        for (row, o) in rows.chunks_exact(3 * D).zip(out.chunks_exact_mut(D)) {
            let mut q = [0f32; HEAD_DIM];
            for (q, v) in q.iter_mut().zip(&row[col..col + HEAD_DIM]) {
                *q = v * scale;
            }
            for (b, block) in scores.chunks_exact_mut(16).enumerate() {
                // Four partial sums over the head's columns: four independent add
                // chains instead of one 32 long.
                let mut acc = [[0f32; 16]; 4];
                for (qs, ks) in q.chunks_exact(4).zip(kt.chunks_exact(4 * np)) {
                    for (r, acc) in acc.iter_mut().enumerate() {
                        let k = &ks[r * np + b * 16..r * np + b * 16 + 16];
                        for (a, k) in acc.iter_mut().zip(k) {
                            *a += qs[r] * k;
                        }
                    }
                }
                for (i, v) in block.iter_mut().enumerate() {
                    *v = (acc[0][i] + acc[1][i]) + (acc[2][i] + acc[3][i]);
                }
            }
            softmax_body(&mut scores[..n]);
            // Even and odd keys in two accumulators: two independent add chains.
            let (mut even, mut odd) = ([0f32; HEAD_DIM], [0f32; HEAD_DIM]);
            let values = |j: usize| &rows[j * 3 * D + 2 * D + col..][..HEAD_DIM];
            let probs = &scores[..n];
            let pairs = probs.chunks_exact(2);
            if let [p] = pairs.remainder() {
                for (a, v) in even.iter_mut().zip(values(n - 1)) {
                    *a += p * v;
                }
            }
            for (j, pp) in pairs.enumerate() {
                let (v0, v1) = (values(2 * j), values(2 * j + 1));
                for ((a, b), (x, y)) in even.iter_mut().zip(&mut odd).zip(v0.iter().zip(v1)) {
                    *a += pp[0] * x;
                    *b += pp[1] * y;
                }
            }
            for ((o, a), b) in o[col..col + HEAD_DIM].iter_mut().zip(&even).zip(&odd) {
                *o = a + b;
            }
        }
    }
}

/// Defines `$name` that runs the `#[inline(always)]` body `$generic` compiled for
/// AVX-512 or AVX2+FMA when the CPU has them, so the plain loops below vectorise.
macro_rules! simd_dispatch {
    ($name:ident, $generic:ident, ($($a:ident : $t:ty),* $(,)?)) => {
        #[allow(clippy::too_many_arguments)]
        fn $name($($a: $t),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[allow(clippy::too_many_arguments)]
                #[target_feature(enable = "avx512f,avx2,fma")]
                unsafe fn v4($($a: $t),*) { $generic($($a),*) }
                #[allow(clippy::too_many_arguments)]
                #[target_feature(enable = "avx2,fma")]
                unsafe fn v3($($a: $t),*) { $generic($($a),*) }
                if std::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has the features v4 is compiled for.
                    return unsafe { v4($($a),*) };
                }
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU has the features v3 is compiled for.
                    return unsafe { v3($($a),*) };
                }
            }
            $generic($($a),*)
        }
    };
}

simd_dispatch!(layer_norm, layer_norm_body, (x: &mut [f32], g: &[f32], b: &[f32], eps: f32));
simd_dispatch!(
    attention,
    attention_body,
    (
        qkv: &[f32],
        ctx: &mut [f32],
        start: usize,
        n: usize,
        scale: f32,
        kt: &mut Vec<f32>,
        scores: &mut Vec<f32>
    )
);
simd_dispatch!(gelu, gelu_body, (x: &mut [f32]));

/// Sum with 16 independent partial sums, which the compiler keeps in one vector.
#[inline(always)]
fn sum16(v: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    let chunks = v.chunks_exact(16);
    let rest: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for (a, x) in acc.iter_mut().zip(c) {
            *a += x;
        }
    }
    acc.iter().sum::<f32>() + rest
}

#[inline(always)]
fn layer_norm_body(x: &mut [f32], g: &[f32], b: &[f32], eps: f32) {
    let d = g.len();
    for r in x.chunks_exact_mut(d) {
        let mean = sum16(r) / d as f32;
        let mut acc = [0f32; 16];
        let chunks = r.chunks_exact(16);
        let mut rest = 0f32;
        for v in chunks.remainder() {
            rest += (v - mean) * (v - mean);
        }
        for c in chunks {
            for (a, v) in acc.iter_mut().zip(c) {
                *a += (v - mean) * (v - mean);
            }
        }
        let var = (acc.iter().sum::<f32>() + rest) / d as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, g), b) in r.iter_mut().zip(g).zip(b) {
            *v = (*v - mean) * inv * g + b;
        }
    }
}

/// e^x for x ≤ 88 (Cephes' expf: range reduction to [-ln2/2, ln2/2] and a degree-6
/// polynomial, ~1 ulp), branch-free so it vectorises; std's exp is a libm call per value.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E + 0.5).floor();
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let e = p * (r * r) + r + 1.0;
    e * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

#[inline(always)]
fn softmax_body(row: &mut [f32]) {
    // Lane-wise maxima (f32::max's NaN rules keep the compiler scalar; scores are finite).
    let mut lanes = [f32::NEG_INFINITY; 16];
    let chunks = row.chunks_exact(16);
    let mut max = f32::NEG_INFINITY;
    for &v in chunks.remainder() {
        max = if v > max { v } else { max };
    }
    for c in chunks {
        for (m, &v) in lanes.iter_mut().zip(c) {
            *m = if v > *m { v } else { *m };
        }
    }
    for m in lanes {
        max = if m > max { m } else { max };
    }
    for v in row.iter_mut() {
        *v = exp_f32(*v - max);
    }
    let inv = 1.0 / sum16(row);
    for v in row.iter_mut() {
        *v *= inv;
    }
}

/// erf(x) to ~1e-7 (the rational approximation Eigen and XLA use for f32), branch-free
/// so it vectorises; beyond ±4 erf is ±1 in f32.
#[inline(always)]
fn erf_f32(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = x2 * -2.726_142_3e-10 + 2.770_681_4e-8;
    p = x2 * p - 2.101_024e-6;
    p = x2 * p - 5.692_506_4e-5;
    p = x2 * p - 7.349_906_3e-4;
    p = x2 * p - 2.954_6e-3;
    p = x2 * p - 1.609_603_3e-2;
    let mut q = x2 * -1.456_607_2e-5 - 2.133_740_6e-4;
    q = x2 * q - 1.682_827e-3;
    q = x2 * q - 7.373_329e-3;
    q = x2 * q - 1.426_473_9e-2;
    x * p / q
}

/// BERT's exact GELU, x·Φ(x) = x/2·(1 + erf(x/√2)).
#[inline(always)]
fn gelu_body(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = 0.5 * *v * (1.0 + erf_f32(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// The bf16 matmul: `vdpbf16ps` multiplies pairs of bf16 and adds both products into an
/// f32 lane, twice the f32 FMA rate on AVX-512 BF16 CPUs. No crate of the field offers
/// it on stable Rust (gemm's f16/bf16 paths convert to f32 and run the f32 kernel), so
/// this is a plain register-blocked kernel: 8 rows × 48 columns of f32 accumulators,
/// weights pre-packed once so each step reads them contiguously.
#[cfg(target_arch = "x86_64")]
mod bf16 {
    use std::arch::x86_64::*;

    /// Columns per weight panel (3 zmm of 16 f32).
    const NR: usize = 48;
    /// Rows per kernel call.
    const MR: usize = 8;

    /// Weights as bf16 panels: [n/NR][k/2][NR][2], i.e. for each k pair the NR columns'
    /// two values side by side, as `vdpbf16ps` wants them.
    pub(super) struct PackedB {
        k: usize,
        n: usize,
        data: Vec<u16>,
    }

    /// Round to nearest even, as `vcvtneps2bf16` does.
    fn to_bf16(x: f32) -> u16 {
        let b = x.to_bits();
        (b.wrapping_add(0x7fff + ((b >> 16) & 1)) >> 16) as u16
    }

    impl PackedB {
        /// `w` is [n][k]; `None` for shapes the kernel does not tile.
        pub(super) fn new(w: &[f32], n: usize, k: usize) -> Option<Self> {
            if !n.is_multiple_of(NR) || !k.is_multiple_of(2) || w.len() < n * k {
                return None;
            }
            let mut data = Vec::with_capacity(n * k);
            for panel in 0..n / NR {
                for kp in 0..k / 2 {
                    for j in 0..NR {
                        let row = &w[(panel * NR + j) * k + 2 * kp..];
                        data.push(to_bf16(row[0]));
                        data.push(to_bf16(row[1]));
                    }
                }
            }
            Some(PackedB { k, n, data })
        }

        /// `c[m][n] += a[m][k] · w` with `a` in bf16.
        pub(super) fn gemm(&self, a: &[u16], m: usize, c: &mut [f32]) {
            let (k, n) = (self.k, self.n);
            assert!(a.len() >= m * k && c.len() >= m * n && self.data.len() == n * k);
            assert!(
                super::bf16_supported(),
                "bf16 kernel on a CPU without AVX-512 BF16"
            );
            for panel in 0..n / NR {
                let mut i0 = 0;
                while i0 < m {
                    let rows = (m - i0).min(MR);
                    // SAFETY: the CPU has the features (asserted above); rows i0..i0+rows
                    // of a and c, and columns panel·NR..+NR of c, are in bounds (asserted
                    // lengths), and the panel holds k/2·NR pairs.
                    unsafe {
                        kernel_rows(
                            rows,
                            k / 2,
                            a.as_ptr().add(i0 * k),
                            k,
                            self.data.as_ptr().add(panel * k * NR),
                            c.as_mut_ptr().add(i0 * n + panel * NR),
                            n,
                        );
                    }
                    i0 += rows;
                }
            }
        }
    }

    /// f32 → bf16, round to nearest even.
    pub(super) fn convert(x: &[f32], out: &mut [u16]) {
        assert!(out.len() >= x.len());
        assert!(
            super::bf16_supported(),
            "bf16 kernel on a CPU without AVX-512 BF16"
        );
        // SAFETY: features asserted; lengths checked.
        unsafe { convert_avx512(x, out) }
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
    unsafe fn convert_avx512(x: &[f32], out: &mut [u16]) {
        let whole = x.len() / 16 * 16;
        for i in (0..whole).step_by(16) {
            let v = _mm512_loadu_ps(x.as_ptr().add(i));
            let h: __m256i = std::mem::transmute(_mm512_cvtneps_pbh(v));
            _mm256_storeu_si256(out.as_mut_ptr().add(i) as *mut __m256i, h);
        }
        for i in whole..x.len() {
            out[i] = to_bf16(x[i]);
        }
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
    unsafe fn kernel_rows(
        rows: usize,
        k2: usize,
        a: *const u16,
        lda: usize,
        b: *const u16,
        c: *mut f32,
        ldc: usize,
    ) {
        match rows {
            8 => kernel::<8>(k2, a, lda, b, c, ldc),
            7 => kernel::<7>(k2, a, lda, b, c, ldc),
            6 => kernel::<6>(k2, a, lda, b, c, ldc),
            5 => kernel::<5>(k2, a, lda, b, c, ldc),
            4 => kernel::<4>(k2, a, lda, b, c, ldc),
            3 => kernel::<3>(k2, a, lda, b, c, ldc),
            2 => kernel::<2>(k2, a, lda, b, c, ldc),
            _ => kernel::<1>(k2, a, lda, b, c, ldc),
        }
    }

    /// R rows × 48 columns: 3R zmm accumulators loaded from c, k2 steps of one
    /// broadcast bf16 pair per row against three packed weight vectors, stored back.
    #[inline(always)]
    unsafe fn kernel<const R: usize>(
        k2: usize,
        a: *const u16,
        lda: usize,
        b: *const u16,
        c: *mut f32,
        ldc: usize,
    ) {
        let mut acc = [[_mm512_setzero_ps(); 3]; R];
        for (i, row) in acc.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = _mm512_loadu_ps(c.add(i * ldc + j * 16));
            }
        }
        for p in 0..k2 {
            let bp = b.add(p * NR * 2);
            let b0: __m512bh = std::mem::transmute(_mm512_loadu_si512(bp as *const __m512i));
            let b1: __m512bh =
                std::mem::transmute(_mm512_loadu_si512(bp.add(32) as *const __m512i));
            let b2: __m512bh =
                std::mem::transmute(_mm512_loadu_si512(bp.add(64) as *const __m512i));
            for (i, row) in acc.iter_mut().enumerate() {
                let pair = (a.add(i * lda + 2 * p) as *const u32).read_unaligned();
                let av: __m512bh = std::mem::transmute(_mm512_set1_epi32(pair as i32));
                row[0] = _mm512_dpbf16_ps(row[0], av, b0);
                row[1] = _mm512_dpbf16_ps(row[1], av, b1);
                row[2] = _mm512_dpbf16_ps(row[2], av, b2);
            }
        }
        for (i, row) in acc.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                _mm512_storeu_ps(c.add(i * ldc + j * 16), *v);
            }
        }
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
            2,
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
    fn fast_math_matches_f64() {
        // erf by its Taylor series in f64 (converges fine for |x| <= 5).
        let erf64 = |x: f64| {
            let (mut term, mut sum, mut n) = (x, x, 0.0);
            while term.abs() > 1e-17 * sum.abs().max(1e-300) || n < 10.0 {
                n += 1.0;
                term *= -x * x / n;
                sum += term / (2.0 * n + 1.0);
                if n > 200.0 {
                    break;
                }
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        };
        for i in -500..=500 {
            let x = i as f32 / 100.0;
            let err = (f64::from(erf_f32(x)) - erf64(f64::from(x))).abs();
            assert!(err < 5e-7, "erf({x}) off by {err}");
        }
        for i in 0..=870 {
            let x = -(i as f32) / 10.0;
            let want = f64::from(x).exp();
            let rel = ((f64::from(exp_f32(x)) - want) / want).abs();
            assert!(rel < 5e-7, "exp({x}) off by {rel}");
        }
        let mut row = vec![1.0f32, 2.0, 3.0, -1.0];
        softmax_body(&mut row);
        let z: f64 = [1.0f64, 2.0, 3.0, -1.0].iter().map(|v| v.exp()).sum();
        assert!((f64::from(row[2]) - 3f64.exp() / z).abs() < 1e-7);
    }

    #[test]
    fn unsorted_batches_keep_order() {
        let ids = lens(&[1, 2, 3, 4, 5]);
        let groups = group(&ids, Batching::Unsorted { batch: 2 }, 2);
        assert_eq!(groups, vec![vec![0, 1], vec![2, 3], vec![4]]);
    }

    #[test]
    fn pool_is_unit_length_mean() {
        let a = vec![1.0; DIM];
        let mut b = vec![0.0; DIM];
        b[0] = 3.0;
        let v = pool([a.as_slice(), b.as_slice()].into_iter());
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
        // Every strategy must give the same vectors: padding must not leak in, packing
        // must not mix texts, and the bf16 matmuls must stay within the bound.
        if !bf16_supported() {
            eprintln!("this CPU has no AVX-512 BF16: Precision::Bf16 runs as F32 here");
        }
        for batching in [
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
            Batching::SingleUnsorted,
            Batching::Unsorted { batch: 3 },
            Batching::SortedBuckets {
                max_tokens: 64,
                parallel: false,
            },
        ] {
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
    fn f32_forward_matches_candle() {
        // The own f32 forward does candle's arithmetic in another order: it must agree
        // with candle far more tightly than the 0.9999 bound, on texts of many lengths.
        let emb = test_embedder();
        let r = reference();
        let mut texts = r.texts.clone();
        texts.push(r.texts.join(" "));
        let f32_path = Batching::Packed {
            max_tokens: 64,
            precision: Precision::F32,
        };
        let ours = emb.embed_with(&texts, f32_path).unwrap();
        let candle = emb.embed_with(&texts, Batching::SingleUnsorted).unwrap();
        for (i, (a, b)) in ours.iter().zip(&candle).enumerate() {
            let c = cosine(a, b);
            assert!(c >= 0.999_999, "text {i}: cosine {c} against candle");
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
