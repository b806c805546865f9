#!/usr/bin/env node
// Tokenizer parity: sllm-tokenize against Hugging Face `tokenizers` (npm, the official Rust
// library) on the same corpus. Checks, line by line:
//   encode with and without special tokens  -> identical ids
//   decode with and without skip_special    -> identical text
//   streaming (--stream)                    -> every delta valid UTF-8, deltas join to decode
// Prints the first differing line of each check and exits 1 on any difference.
//
// Usage: node tokenizer_parity.js --cli BIN --model DIR [--max-lines-per-file N] --corpus FILE...
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const args = process.argv.slice(2);
const opt = { corpus: [] };
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--cli') opt.cli = args[++i];
  else if (args[i] === '--model') opt.model = args[++i];
  else if (args[i] === '--max-lines-per-file') opt.maxLines = parseInt(args[++i], 10);
  else if (args[i] === '--corpus') { while (i + 1 < args.length && !args[i + 1].startsWith('--')) opt.corpus.push(args[++i]); }
  else { console.error('unknown argument ' + args[i]); process.exit(2); }
}
if (!opt.cli || !opt.model || opt.corpus.length === 0) {
  console.error('usage: tokenizer_parity.js --cli BIN --model DIR --corpus FILE...');
  process.exit(2);
}
const refScript = path.join(__dirname, '..', 'reference', 'ref_tokenize.js');
const tokJson = path.join(opt.model, 'tokenizer.json');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sllm-parity-'));

function run(cmd, argv, inputFile) {
  const r = spawnSync(cmd, argv, {
    input: inputFile ? fs.readFileSync(inputFile) : undefined,
    maxBuffer: 1 << 30,
  });
  if (r.status !== 0) {
    console.error(`FAILED: ${cmd} ${argv.join(' ')} exited ${r.status}\n${r.stderr}`);
    process.exit(1);
  }
  return r.stdout;  // Buffer
}
const lines = (buf) => buf.toString('utf8').split('\n').filter((l) => l.length > 0);

// One corpus file with every non-blank line.
const corpusLines = [];
for (const f of opt.corpus) {
  let taken = 0;
  for (const l of fs.readFileSync(f, 'utf8').split('\n')) {
    if (!l.trim()) continue;
    if (opt.maxLines && taken++ >= opt.maxLines) break;
    corpusLines.push(l.replace(/\r$/, ''));
  }
}
const corpus = path.join(tmp, 'corpus.jsonl');
fs.writeFileSync(corpus, corpusLines.join('\n') + '\n');

let failures = 0;
function compare(what, ref, ours, show) {
  let diff = 0, first = -1;
  const n = Math.max(ref.length, ours.length);
  for (let i = 0; i < n; i++) {
    if (ref[i] !== ours[i]) { diff++; if (first < 0) first = i; }
  }
  const equal = n - diff;
  console.log(`${path.basename(opt.model)} ${what}: ${equal}/${n} lines equal`);
  if (diff > 0) {
    failures++;
    console.log(`  first difference at line ${first + 1}: ${show(first)}`);
    console.log(`  reference: ${ref[first]}`);
    console.log(`  sllm:      ${ours[first]}`);
  }
}
const input = (i) => corpusLines[i];

for (const special of [true, false]) {
  const flag = special ? [] : ['--no-special'];
  const ref = lines(run('node', [refScript, tokJson, corpus, ...flag]));
  const ours = lines(run(opt.cli, ['--model', opt.model, ...flag], corpus));
  compare(`encode add_special_tokens=${special}`, ref, ours, input);
  if (special) fs.writeFileSync(path.join(tmp, 'ids.jsonl'), ref.join('\n') + '\n');
}
const ids = path.join(tmp, 'ids.jsonl');
const idLines = lines(fs.readFileSync(ids));
for (const skip of [false, true]) {
  const flag = skip ? ['--skip-special'] : [];
  const ref = lines(run('node', [refScript, tokJson, ids, '--decode', ...flag]));
  const ours = lines(run(opt.cli, ['--model', opt.model, '--decode', ...flag], ids));
  compare(`decode skip_special_tokens=${skip}`, ref, ours, (i) => idLines[i]);
  // Streaming: each output line is a JSON array of deltas; check raw bytes are valid UTF-8.
  const raw = run(opt.cli, ['--model', opt.model, '--stream', ...flag], ids);
  const strict = new TextDecoder('utf-8', { fatal: true });
  let text;
  try { text = strict.decode(raw); } catch (e) {
    console.log('stream output is not valid UTF-8'); failures++; continue;
  }
  const joined = text.split('\n').filter((l) => l.length > 0).map((l) => {
    const v = JSON.parse(l);
    return Array.isArray(v) ? JSON.stringify(v.join('')) : l;
  });
  compare(`stream skip_special_tokens=${skip} (deltas joined vs reference decode)`, ref, joined, (i) => idLines[i]);
}
fs.rmSync(tmp, { recursive: true, force: true });
console.log(failures === 0 ? 'parity: all checks equal' : `parity: ${failures} checks differ`);
process.exit(failures === 0 ? 0 : 1);
