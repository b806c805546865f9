#!/usr/bin/env python3
"""Writes tokenizer.json variants that exercise components no seed tokenizer uses.

Each variant swaps the normalizer, pre-tokenizer or decoder of a real tokenizer (byte-level
llama3, or SentencePiece-style mistral-spm) for another component, so that parity against
Hugging Face `tokenizers` covers NFKC/NFD/NFKD, Lowercase, Strip, Replace with a regex,
Split with every behavior and invert, Digits, Punctuation, Whitespace, WhitespaceSplit,
Metaspace with each prepend_scheme, ByteLevel with its own regex and prefix space, and the
Metaspace/Strip/Replace decoders.

Usage: make_variants.py SRC_TOKENIZERS_DIR OUT_DIR   (writes OUT_DIR/<variant>/tokenizer.json)
"""
import copy
import json
import os
import sys

src, out = sys.argv[1], sys.argv[2]
load = lambda name: json.load(open(os.path.join(src, name, "tokenizer.json"), encoding="utf-8"))
llama3, mistral = load("llama3"), load("mistral-spm")

BYTE_LEVEL = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}


def split(pattern, behavior, invert=False, regex=True):
    return {"type": "Split", "pattern": {"Regex" if regex else "String": pattern},
            "behavior": behavior, "invert": invert}


def byte_level_variant(normalizer=None, pre=None):
    t = copy.deepcopy(llama3)
    t["normalizer"] = normalizer
    seq = (pre if isinstance(pre, list) else [pre]) if pre else []
    t["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": seq + [BYTE_LEVEL]}
    return t


variants = {}
for form in ["NFC", "NFD", "NFKC", "NFKD"]:
    variants[f"bl-{form.lower()}"] = byte_level_variant({"type": form})
variants["bl-lower-strip"] = byte_level_variant(
    {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"},
                                          {"type": "Strip", "strip_left": True, "strip_right": True}]})
variants["bl-replace-regex"] = byte_level_variant(
    {"type": "Replace", "pattern": {"Regex": r"\s+"}, "content": " "})
variants["bl-strip-left"] = byte_level_variant({"type": "Strip", "strip_left": True, "strip_right": False})
for behavior in ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"]:
    for invert in [False, True]:
        name = f"bl-split-{behavior.lower()}{'-invert' if invert else ''}"
        variants[name] = byte_level_variant(pre=split(r"\s+|[,.!?]", behavior, invert))
variants["bl-split-string"] = byte_level_variant(pre=split(" ", "MergedWithNext", regex=False))
variants["bl-digits"] = byte_level_variant(pre={"type": "Digits", "individual_digits": False})
variants["bl-digits-individual"] = byte_level_variant(pre={"type": "Digits", "individual_digits": True})
variants["bl-punctuation"] = byte_level_variant(pre={"type": "Punctuation", "behavior": "Isolated"})
variants["bl-punctuation-next"] = byte_level_variant(pre={"type": "Punctuation", "behavior": "MergedWithNext"})
variants["bl-whitespace"] = byte_level_variant(pre={"type": "Whitespace"})
variants["bl-whitespace-split"] = byte_level_variant(pre={"type": "WhitespaceSplit"})
variants["bl-bert"] = byte_level_variant(pre={"type": "BertPreTokenizer"})
gpt2 = copy.deepcopy(llama3)
gpt2["pre_tokenizer"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
variants["bl-gpt2-prefix-space"] = gpt2

for scheme in ["always", "first", "never"]:
    for do_split in [True, False]:
        t = copy.deepcopy(mistral)
        t["normalizer"] = None
        meta = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": scheme, "split": do_split}
        t["pre_tokenizer"] = meta
        t["decoder"] = {"type": "Sequence", "decoders": [
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": scheme, "split": do_split}]}
        variants[f"spm-metaspace-{scheme}{'-split' if do_split else ''}"] = t
t = copy.deepcopy(mistral)
t["normalizer"] = {"type": "Sequence", "normalizers": [
    {"type": "NFKC"}, {"type": "Prepend", "prepend": "\u2581"},
    {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}
t["decoder"]["decoders"][-1] = {"type": "Strip", "content": " ", "start": 2, "stop": 0}
variants["spm-nfkc-strip2"] = t

for name, tok in variants.items():
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False)
print(" ".join(sorted(variants)))
