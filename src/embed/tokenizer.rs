//! WordPiece tokenisation by the `tokenizers` crate from the model's own
//! `tokenizer.json`, set up as sentence-transformers runs MiniLM: no padding
//! (passes are packed, or padded per bucket by the reference), and texts cut at
//! [`MAX_TOKENS`].

use std::path::Path;

use tokenizers::TruncationParams;

use super::{EmbedError, MAX_TOKENS};

pub(super) struct Tokenizer {
    inner: tokenizers::Tokenizer,
}

impl Tokenizer {
    pub(super) fn load(path: &Path) -> Result<Self, EmbedError> {
        let unusable = |e: tokenizers::Error| EmbedError::Tokenizer {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let mut inner = tokenizers::Tokenizer::from_file(path).map_err(unusable)?;
        // The shipped tokenizer.json pads every text to a fixed 128 tokens; we never pad
        // (packs) or pad per bucket ourselves, and truncate where sentence-transformers does.
        inner.with_padding(None);
        inner
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(unusable)?;
        Ok(Tokenizer { inner })
    }

    /// Token ids per text ([CLS] … [SEP]), in input order.
    pub(super) fn ids(&self, texts: &[String]) -> Result<Vec<Vec<u32>>, EmbedError> {
        let encodings = self
            .inner
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Inference(format!("tokenizing: {e}")))?;
        Ok(encodings.iter().map(|e| e.get_ids().to_vec()).collect())
    }
}
