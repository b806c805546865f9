#!/usr/bin/env node
// Chat-template parity: `sllm-tokenize --chat` against the reference renderer
// (tests/reference/ref_chat_template.js, @huggingface/jinja) for every template x conversation,
// with add_generation_prompt on and off. Both sides get the same tokenizer_config.json special
// tokens, the same variables and the same fixed date. A conversation the reference rejects
// (raise_exception, unsupported construct) must make sllm fail too; sllm must never fail where
// the reference renders. Prints the first difference of each template and exits 1 on any.
//
// Usage: node chat_template_parity.js --cli BIN --model DIR --templates DIR
//            --conversations FILE [--date YYYY-MM-DD] [--only SUBSTRING] [--verbose]
//            [--continue-final]   (also compare continue_final_message renders)
//        node chat_template_parity.js ... --template FILE ...    (one template)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');

const args = process.argv.slice(2);
const opt = { date: '2024-07-26', only: '', verbose: false, continueFinal: false };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--cli') opt.cli = args[++i];
  else if (a === '--model') opt.model = args[++i];
  else if (a === '--templates') opt.templates = args[++i];
  else if (a === '--template') opt.template = args[++i];
  else if (a === '--conversations') opt.conversations = args[++i];
  else if (a === '--date') opt.date = args[++i];
  else if (a === '--only') opt.only = args[++i];
  else if (a === '--verbose') opt.verbose = true;
  else if (a === '--continue-final') opt.continueFinal = true;
  else { console.error('unknown argument ' + a); process.exit(2); }
}
if (!opt.cli || !opt.model || !(opt.templates || opt.template) || !opt.conversations) {
  console.error('usage: chat_template_parity.js --cli BIN --model DIR (--templates DIR | --template FILE) --conversations FILE');
  process.exit(2);
}
const refScript = path.join(__dirname, '..', 'reference', 'ref_chat_template.js');
const config = path.join(opt.model, 'tokenizer_config.json');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sllm-chat-parity-'));

const conversations = fs.readFileSync(opt.conversations, 'utf8').split('\n')
  .map((l) => l.replace(/\r$/, '')).filter((l) => l.trim().length > 0);
const templates = opt.template ? [opt.template]
  : fs.readdirSync(opt.templates).filter((f) => f.endsWith('.jinja'))
    .filter((f) => f.includes(opt.only)).sort().map((f) => path.join(opt.templates, f));

// Runs the reference on `lines`; resolves to {status, stdout, stderr}.
function reference(lines, template, flags) {
  const file = path.join(tmp, `ref-${refCounter++}.jsonl`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return new Promise((resolve) => {
    const child = spawn('node', [refScript, config, file, '--template', template, '--json',
      '--date', opt.date, ...flags]);
    const out = [], err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out).toString('utf8'),
      stderr: Buffer.concat(err).toString('utf8').trim() }));
  });
}
let refCounter = 0;

// At most `limit` reference processes at a time.
async function pool(tasks, limit) {
  const results = new Array(tasks.length);
  let next = 0;
  async function worker() {
    while (next < tasks.length) { const i = next++; results[i] = await tasks[i](); }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}
const parallel = Math.max(2, Math.min(4, os.cpus().length));

// The reference stops at the first failing conversation ("FILE:K: message"): record that error,
// render the conversations before it again (they succeeded but were not printed) and go on
// after it. Where failures are dense, render each remaining conversation on its own, several
// at a time. Resolves to one entry per conversation: {text} (a JSON string line) or {error}.
async function runReference(template, flags) {
  const n = conversations.length;
  const results = new Array(n);
  const fill = (from, stdout) => stdout.split('\n').filter((l) => l.length > 0)
    .forEach((l, i) => { results[from + i] = { text: l }; });
  const pending = [];
  let start = 0, failures = 0;
  while (start < n) {
    if (failures >= 3) {
      const rest = await pool(conversations.slice(start).map((c) => () => reference([c], template, flags)), parallel);
      rest.forEach((r, i) => {
        results[start + i] = r.status === 0 ? { text: r.stdout.split('\n')[0] }
          : { error: r.stderr.replace(/^error: /, '') };
      });
      break;
    }
    const r = await reference(conversations.slice(start), template, flags);
    if (r.status === 0) { fill(start, r.stdout); break; }
    // A single remaining conversation is read as one document: no "FILE:K:" prefix.
    const m = n - start > 1 ? /^error: .*?:(\d+): ([\s\S]*)$/.exec(r.stderr) : null;
    const k = m ? parseInt(m[1], 10) - 1 : 0;
    results[start + k] = { error: m ? m[2] : r.stderr.replace(/^error: /, '') };
    if (k > 0) {
      const from = start;
      pending.push(reference(conversations.slice(from, from + k), template, flags).then((ok) => {
        if (ok.status !== 0) { console.log(`reference failed on lines it rendered before: ${ok.stderr}`); process.exit(1); }
        fill(from, ok.stdout);
      }));
    }
    failures++;
    start += k + 1;
  }
  await Promise.all(pending);
  return results;
}

function runSllm(template, flags) {
  const r = spawnSync(opt.cli, ['--model', opt.model, '--chat', '--template', template,
    '--date', opt.date, ...flags], { input: conversations.join('\n') + '\n', maxBuffer: 1 << 30 });
  if (r.status !== 0) {
    console.log(`FAILED: ${opt.cli} exited ${r.status}: ${r.stderr}`);
    process.exit(1);
  }
  return r.stdout.toString('utf8').split('\n').filter((l) => l.length > 0).map((l) => {
    const v = JSON.parse(l);
    return typeof v === 'string' ? { text: l } : { error: v.error };
  });
}

let total = 0, equal = 0, errorsMatched = 0, failures = 0;
async function main() {
  for (const template of templates) {
    const name = path.basename(template);
    const modes = opt.continueFinal ? [true, false, 'continue_final'] : [true, false];
    const runs = await Promise.all(modes.map(async (gen) => {
      const flags = gen === true ? [] : gen === false ? ['--no-generation-prompt'] : ['--continue-final'];
      return { gen, ref: await runReference(template, flags), ours: runSllm(template, flags) };
    }));
    for (const { gen, ref, ours } of runs) {
      let first = -1, same = 0, errs = 0;
      for (let i = 0; i < conversations.length; i++) {
        const a = ref[i], b = ours[i];
        const ok = a && b && (a.error !== undefined ? b.error !== undefined : a.text === b.text);
        if (ok) { same++; if (a.error !== undefined) errs++; } else if (first < 0) first = i;
        if (opt.verbose && ok && a.error !== undefined) {
          console.log(`  both fail ${name} gen=${gen} #${i + 1}: reference: ${a.error.split('\n')[0].slice(0, 150)} | sllm: ${b.error.slice(0, 200)}`);
        }
      }
      total += conversations.length;
      equal += same;
      errorsMatched += errs;
      if (first >= 0) {
        failures++;
        const show = (x) => (x === undefined ? '(missing)' : x.error !== undefined ? `ERROR ${x.error}` : x.text);
        console.log(`DIFF ${name} add_generation_prompt=${gen}: ${same}/${conversations.length} equal; first difference at conversation ${first + 1}`);
        console.log(`  conversation: ${conversations[first].slice(0, 300)}`);
        console.log(`  reference: ${show(ref[first])}`);
        console.log(`  sllm:      ${show(ours[first])}`);
      } else {
        console.log(`ok ${name} add_generation_prompt=${gen}: ${same}/${conversations.length} equal (${errs} rejected by both)`);
      }
    }
  }
}
main().then(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`chat template parity: ${templates.length} templates x ${conversations.length} conversations x ${opt.continueFinal ? 3 : 2}: ` +
    `${equal}/${total} equal (of which ${errorsMatched} errors on both sides)`);
  process.exit(failures === 0 ? 0 : 1);
});
