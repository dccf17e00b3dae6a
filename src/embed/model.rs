//! The own BERT forward, written for MiniLM's size: the `config.json` fields it
//! runs on, the weights read from `model.safetensors` (the `safetensors` crate)
//! with Q, K and V stacked into one matmul, and one pass over texts packed back
//! to back without padding (attention per text), mean-pooled and normalised.

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use serde::Deserialize;

use super::kernels::{attention, gelu, layer_norm, Linear};
use super::{EmbedError, Precision, DIM, HEAD_DIM, MAX_TOKENS};

/// The fields of a Hugging Face BERT `config.json` the forward reads, with the
/// names, values and defaults the format gives them.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Config {
    pub(super) vocab_size: usize,
    pub(super) hidden_size: usize,
    pub(super) num_hidden_layers: usize,
    pub(super) num_attention_heads: usize,
    pub(super) intermediate_size: usize,
    pub(super) hidden_act: HiddenAct,
    pub(super) max_position_embeddings: usize,
    pub(super) layer_norm_eps: f64,
    #[serde(default)]
    pub(super) position_embedding_type: PositionEmbeddingType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum HiddenAct {
    Gelu,
    GeluApproximate,
    Relu,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub(super) enum PositionEmbeddingType {
    #[default]
    Absolute,
}

/// What the own forward supports: BERT with erf GELU, absolute positions, DIM wide.
pub(super) fn check_config(c: &Config) -> Result<(), String> {
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
pub(super) fn pool<'a>(tokens: impl Iterator<Item = &'a [f32]>) -> Vec<f32> {
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

struct Layer {
    qkv: Linear,
    attn_out: Linear,
    ln1: (Vec<f32>, Vec<f32>),
    up: Linear,
    down: Linear,
    ln2: (Vec<f32>, Vec<f32>),
}

pub(super) struct Net {
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
    /// The weights from the bytes of `model.safetensors`, laid out for the forward.
    pub(super) fn load(bytes: &[u8], c: &Config) -> Result<Self, String> {
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| e.to_string())?;
        // Both the bare BertModel names and the `bert.`-prefixed ones of a BertFor* model.
        let get = |name: &str, len: usize| -> Result<Vec<f32>, String> {
            let t = tensors
                .tensor(name)
                .or_else(|_| tensors.tensor(&format!("bert.{name}")))
                .map_err(|_| format!("no tensor {name}"))?;
            let v = to_f32(&t).map_err(|e| format!("{name}: {e}"))?;
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
    pub(super) fn forward(
        &self,
        seqs: &[&[u32]],
        precision: Precision,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
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

/// A tensor's values as f32 in row-major order, whatever float type it is stored in.
fn to_f32(t: &TensorView) -> Result<Vec<f32>, String> {
    let bytes = t.data();
    Ok(match t.dtype() {
        Dtype::F32 => bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Dtype::F16 => bytes
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::BF16 => bytes
            .chunks_exact(2)
            .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::F64 => bytes
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
            .collect(),
        other => return Err(format!("{other:?} values, not floats")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
