#!/usr/bin/env python3
"""Writes edge_cases.jsonl: hand-picked hard inputs for tokenizer parity, one JSON string a line.

Deterministic (fixed seed). Covers code, emoji and ZWJ sequences, combining marks, decomposed
Hangul jamo, long whitespace runs, digits in many scripts, control characters and special-token
strings inside text. Run: python3 make_edge_cases.py > edge_cases.jsonl
"""
import json
import random
import unicodedata

rng = random.Random(20261127)

korean = ["안녕하세요", "한국어 텍스트는 중간에 깨지지 않습니다.", "블로썸은 한국어 모델입니다",
          "서울특별시 강남구 테헤란로 427", "ㄱㄴㄷㄹ ㅏㅑㅓㅕ", "읽었습니다만, 괜찮았어요?!"]
code = [
    "int main(int argc, char** argv) {\n  return argc > 1 ? 0 : -1;\n}\n",
    "def f(x):\n\tif x:\n\t\treturn [i**2 for i in range(10)]\n",
    '{"key": [1, 2.5e-3, null, true], "nested": {"a": "b\\n"}}',
    "for i in $(seq 1 10); do echo \"$i\" | grep -E '^[0-9]+$' >> /tmp/x; done",
    "std::vector<std::unique_ptr<Foo>> v; v.emplace_back(std::make_unique<Foo>(42));",
    "SELECT a.id, COUNT(*) FROM t a JOIN u b ON a.id=b.id WHERE x <> 'y' GROUP BY 1;",
    "    indented    code\r\n\twith\tcrlf\r\n",
    "x+=1;y-=2;z*=3;w/=4;v%=5;u&=6;t|=7;s^=8;r<<=9;q>>=10;",
]
emoji = ["😀", "👩‍👩‍👧‍👦", "👍🏽", "🇰🇷🇺🇸", "❤️", "🧑🏻‍💻", "🏳️‍🌈", "1️⃣", "👨‍❤️‍💋‍👨", "🫠"]
combining = ["e\u0301", "a\u0300\u0316", "Z\u0351\u0364\u0350\u0315", "n\u0303o", "\u0915\u094D\u0937",
             "A\u030A", "\u1100\u1161\u11A8", "o\u0308\u0304"]
specials = ["<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>", "<s>", "</s>",
            "<bos>", "<eos>", "<unk>", "<pad>", "<mask>", "<unused0>", "<start_of_turn>", "<end_of_turn>",
            "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>", "<tool_call>",
            "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<0x41>", "<|begin_of_",
            "[INST]", "[/INST]", "<<SYS>>", "<|reserved_special_token_5|>", "▁", "▁▁▁"]
spaces = [" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2028", "\u0085", "\u200b", "\u2009", "\u180e", "\x0b", "\x0c"]
digits = ["0", "12", "123", "1234", "12345678901234567890", "3.14159", "1,000,000", "٣٤٥", "१२३", "１２３",
          "Ⅻ", "½", "²³", "0x1F", "1e-9", "-42"]
scripts = ["Hello World", "Привет, мир", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก",
           "こんにちは世界", "你好，世界", "カタカナとひらがな", "Γειά σου Κόσμε", "ĞÜŞİÖÇ ğüşıöç", "straße STRASSE",
           "I'M YOU'LL WE'VE SHE'D THEY'RE IT'S", "i'm you'll we've she'd they're it's", "ﬁ ﬂ ﬀ ①②③ ㎞ ㍻ Ⓐ",
           "İstanbul ǅ ǈ ǋ Σίσυφος ΣΑΣ"]
controls = ["\x00", "\x01\x02\x03", "\x1b[31mred\x1b[0m", "\x7f", "\ufeff", "\ufffd", "\U0010ffff", "\ue000"]

lines = []
lines += code + emoji + combining + specials + scripts + controls + korean
lines += ["", " ", "   ", "\n", "\n\n\n", "a" * 1000, "한" * 300, " " * 257, "\t" * 40 + "x",
          "x" + " " * 100 + "y", "\n" * 50, "  leading", "trailing  ", " \n \n ", "a\u0085b", "\u2581hello\u2581world"]
# Decomposed Hangul (NFD jamo) and compatibility forms.
for k in korean:
    lines.append(unicodedata.normalize("NFD", k))
    lines.append(unicodedata.normalize("NFKD", k))
# Whitespace runs of many lengths and kinds around words.
for n in [1, 2, 3, 4, 7, 8, 15, 16, 31, 64, 100]:
    for s in [" ", "\t", "\n", "\u3000", " \n"]:
        lines.append("word" + s * n + "next" + s * (n // 2))
# Special-token strings inside text, with and without spaces around.
for sp in specials:
    for fmt in ["{t}", "a{t}b", " {t} ", "{t}{t}", "x {t}\n{t} y", "안녕{t}하세요", "{t}123"]:
        lines.append(fmt.format(t=sp))
# Random mixtures of all of the above.
pool = code + emoji + combining + specials + spaces + digits + scripts + controls + korean
for _ in range(1200):
    n = rng.randint(1, 8)
    lines.append("".join(rng.choice(pool) + (rng.choice(spaces) if rng.random() < 0.4 else "") for _ in range(n)))
for d in digits:
    for fmt in ["{d}", "x{d}y", " {d} ", "{d}{d}", "v{d}.{d}", "{d}원", "{d}%"]:
        lines.append(fmt.format(d=d))

for line in lines:
    print(json.dumps(line, ensure_ascii=False))
