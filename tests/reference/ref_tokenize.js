#!/usr/bin/env node
// Reference tokenizer CLI backed by HuggingFace's official Rust `tokenizers` library
// (npm package `tokenizers`, v0.23.x, prebuilt N-API module tokenizers.linux-x64-gnu.node).
//
// Usage:
//   node ref_tokenize.js TOKENIZER_JSON TEXTS_FILE [options]
//
//   TEXTS_FILE: one JSON string per line (e.g. "Hello\nworld"); blank lines are skipped.
//               With --decode, each line is instead a JSON array of token ids.
//   Output (stdout): one JSON line per input line, in input order:
//     default      [id, id, ...]
//     --tokens     {"ids":[...],"tokens":[...]}
//     --offsets    {"ids":[...],"offsets":[[start,end],...]}   (char offsets, UTF-16 as JS sees them)
//     --decode     "decoded text"
//
// Options:
//   --no-special      encode with add_special_tokens=false (default: true, i.e. the tokenizer.json
//                     post_processor runs, e.g. BOS for llama3_1/gemma3/llama2; none for llama3/qwen3)
//   --skip-special    with --decode: drop special tokens (skip_special_tokens=true)
//   --tokens          also print the token strings
//   --offsets         also print offsets
//   --batch N         encode N lines per encodeBatch call (default 256; 1 = one encode() per line)
//   --bench           time encoding; print a JSON summary on stderr (MB/s, tokens/s, lines/s)
//   --quiet           do not print ids (use with --bench)
//   --repeat K        with --bench: encode the whole file K times (default 1)
//   (bench numbers: wall-clock MB/s and tokens/s, plus per CPU-second figures from process.cpuUsage(), which count
//    every thread of the process, including the native tokenizer's worker threads)
//
// Exit status: 0 on success, 2 on bad usage, 1 on error.
'use strict';
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); throw e; });
const fs = require('fs');
const path = require('path');

function loadTokenizers() {
  const candidates = [path.join(__dirname, 'node_modules', 'tokenizers'), 'tokenizers'];
  for (const c of candidates) {
    try { return require(c); } catch (e) { /* try next */ }
  }
  throw new Error("cannot load npm package 'tokenizers' (npm install tokenizers in " + path.join(__dirname, 'npm') + ')');
}

function usage(msg) {
  if (msg) process.stderr.write('error: ' + msg + '\n');
  process.stderr.write('usage: node ref_tokenize.js TOKENIZER_JSON TEXTS_FILE [--no-special] [--tokens] [--offsets] ' +
    '[--decode [--skip-special]] [--batch N] [--bench [--quiet] [--repeat K]]\n');
  process.exit(2);
}

async function main() {
  const args = process.argv.slice(2);
  const pos = [];
  const opt = { special: true, tokens: false, offsets: false, decode: false, skipSpecial: false, batch: 256, bench: false, quiet: false, repeat: 1 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--no-special') opt.special = false;
    else if (a === '--tokens') opt.tokens = true;
    else if (a === '--offsets') opt.offsets = true;
    else if (a === '--decode') opt.decode = true;
    else if (a === '--skip-special') opt.skipSpecial = true;
    else if (a === '--bench') opt.bench = true;
    else if (a === '--quiet') opt.quiet = true;
    else if (a === '--batch') opt.batch = parseInt(args[++i], 10);
    else if (a === '--repeat') opt.repeat = parseInt(args[++i], 10);
    else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('--')) usage('unknown option ' + a);
    else pos.push(a);
  }
  if (pos.length !== 2) usage('need TOKENIZER_JSON and TEXTS_FILE');
  if (!(opt.batch >= 1) || !(opt.repeat >= 1)) usage('--batch and --repeat take positive integers');

  const { Tokenizer } = loadTokenizers();
  const tLoad0 = process.hrtime.bigint();
  const tok = Tokenizer.fromFile(pos[0]);
  const loadMs = Number(process.hrtime.bigint() - tLoad0) / 1e6;

  const raw = fs.readFileSync(pos[1], 'utf8').split('\n');
  const inputs = [];
  for (let i = 0; i < raw.length; i++) {
    const l = raw[i].replace(/\r$/, '');
    if (!l.trim()) continue;
    let v;
    try { v = JSON.parse(l); } catch (e) { throw new Error(`${pos[1]}:${i + 1}: not valid JSON: ${e.message}`); }
    if (opt.decode) {
      if (!Array.isArray(v) || !v.every(Number.isInteger)) throw new Error(`${pos[1]}:${i + 1}: expected a JSON array of integer ids`);
    } else if (typeof v !== 'string') {
      throw new Error(`${pos[1]}:${i + 1}: expected a JSON string`);
    }
    inputs.push(v);
  }

  const out = [];
  const emit = (s) => { if (!opt.quiet) out.push(s); };
  const flush = () => { if (out.length) { process.stdout.write(out.join('\n') + '\n'); out.length = 0; } };

  if (opt.decode) {
    for (let i = 0; i < inputs.length; i += opt.batch) {
      const chunk = inputs.slice(i, i + opt.batch);
      const texts = opt.batch === 1 ? [await tok.decode(chunk[0], opt.skipSpecial)] : await tok.decodeBatch(chunk, opt.skipSpecial);
      for (const t of texts) emit(JSON.stringify(t));
      if (out.length > 4096) flush();
    }
    flush();
    return;
  }

  const encOpts = { addSpecialTokens: opt.special };
  let bytes = 0;
  for (const s of inputs) bytes += Buffer.byteLength(s, 'utf8');
  let nTokens = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < opt.repeat; r++) {
    for (let i = 0; i < inputs.length; i += opt.batch) {
      const chunk = inputs.slice(i, i + opt.batch);
      const encs = opt.batch === 1 ? [await tok.encode(chunk[0], null, encOpts)] : await tok.encodeBatch(chunk, encOpts);
      for (const e of encs) {
        const ids = e.getIds();
        nTokens += ids.length;
        if (r === 0 && !opt.quiet) {
          if (opt.tokens || opt.offsets) {
            const o = { ids };
            if (opt.tokens) o.tokens = e.getTokens();
            if (opt.offsets) o.offsets = e.getOffsets();
            emit(JSON.stringify(o));
          } else {
            emit(JSON.stringify(ids));
          }
        }
      }
      if (out.length > 4096) flush();
    }
    flush();
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  if (opt.bench) {
    const totalBytes = bytes * opt.repeat;
    process.stderr.write(JSON.stringify({
      tokenizer: pos[0], texts: pos[1], lines: inputs.length, repeat: opt.repeat, batch: opt.batch,
      add_special_tokens: opt.special, printed_ids: !opt.quiet, load_ms: +loadMs.toFixed(1),
      utf8_bytes: totalBytes, tokens: nTokens, seconds: +secs.toFixed(3),
      MB_per_s: +(totalBytes / 1e6 / secs).toFixed(3), tokens_per_s: Math.round(nTokens / secs),
      lines_per_s: Math.round(inputs.length * opt.repeat / secs), bytes_per_token: +(totalBytes / nTokens).toFixed(3),
      cpu_seconds: +cpuSecs.toFixed(3), MB_per_cpu_s: +(totalBytes / 1e6 / cpuSecs).toFixed(3), tokens_per_cpu_s: Math.round(nTokens / cpuSecs),
    }) + '\n');
  }
}

main().catch((e) => { process.stderr.write('error: ' + (e && e.stack || e) + '\n'); process.exit(1); });
