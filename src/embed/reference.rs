//! candle's `BertModel`, the reference the benchmark (`benches/embed.rs`) and
//! the tests measure the own forward against, with the padded batching
//! strategies it runs under. Only with the `candle-reference` feature: CineCut
//! itself never runs it, and a default build neither fetches nor compiles candle.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};

use super::{longest_first, model, EmbedError, DIM};

/// Default bucket budget (padded tokens per forward pass) of the candle strategies.
pub const DEFAULT_BUCKET_TOKENS: usize = 4096;

/// candle's model of the same files, loaded on first use.
pub(super) struct Candle {
    weights: PathBuf,
    config: Config,
    model: OnceLock<BertModel>,
}

impl Candle {
    /// Reads `config.json` (text `cfg_text`, at `cfg_path`) as candle does; the
    /// weights at `weights` are read on first use.
    pub(super) fn new(weights: &Path, cfg_path: &Path, cfg_text: &str) -> Result<Self, EmbedError> {
        let config = serde_json::from_str(cfg_text).map_err(|source| EmbedError::Config {
            path: cfg_path.to_path_buf(),
            source,
        })?;
        Ok(Candle {
            weights: weights.to_path_buf(),
            config,
            model: OnceLock::new(),
        })
    }

    fn model(&self) -> Result<&BertModel, EmbedError> {
        if let Some(m) = self.model.get() {
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
        Ok(self.model.get_or_init(|| model))
    }

    /// One candle forward pass over sequences padded to the longest; mean pooling over
    /// real tokens only, then L2 normalisation.
    pub(super) fn forward(&self, seqs: &[&[u32]]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let model = self.model()?;
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
            .map(|(tokens, s)| model::pool(tokens[..s.len()].iter().map(Vec::as_slice)))
            .collect())
    }
}

/// Longest first, cut where a bucket padded to its longest text would pass `max_tokens`.
pub(super) fn buckets(ids: &[Vec<u32>], max_tokens: usize) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut cur: Vec<usize> = Vec::new();
    let mut cur_len = 0;
    for i in longest_first(ids) {
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

#[cfg(test)]
mod tests {
    use crate::embed::tests::lens;
    use crate::embed::{cosine, group, numpy_reference, test_embedder, Batching, Precision};

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
    fn unsorted_batches_keep_order() {
        let ids = lens(&[1, 2, 3, 4, 5]);
        let groups = group(&ids, Batching::Unsorted { batch: 2 }, 2);
        assert_eq!(groups, vec![vec![0, 1], vec![2, 3], vec![4]]);
    }

    #[test]
    fn f32_forward_matches_candle() {
        // The own f32 forward does candle's arithmetic in another order: it must agree
        // with candle far more tightly than the 0.9999 bound, on texts of many lengths.
        let emb = test_embedder();
        let r = numpy_reference();
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
}
