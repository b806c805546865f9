#!/usr/bin/env node
// Reference chat-template renderer: renders a tokenizer_config.json `chat_template` the way
// HF transformers' tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False) does,
// using @huggingface/jinja (npm, the JS Jinja port HF maintains for chat templates).
//
// Usage:
//   node ref_chat_template.js TOKENIZER_CONFIG_JSON MESSAGES_FILE [options]
//
//   MESSAGES_FILE: either one JSON document -- a messages array [{"role":..,"content":..},...] or an object
//                  {"messages":[...], "tools":[...], "documents":[...], ...extra template variables} --
//                  or JSON lines (one such document per line; blank lines skipped).
//   Output: single document -> the rendered prompt, raw, on stdout (no trailing newline added);
//           JSON lines input (or --json) -> one JSON-encoded string per input line.
//
// Options:
//   --no-generation-prompt    add_generation_prompt=false (default: true)
//   --continue-final          continue_final_message=true (cut the render right after the last message's content)
//   --template FILE           use this Jinja file instead of tokenizer_config.json's chat_template
//   --template-name NAME      pick a named template when chat_template is a list (default: "default",
//                             or "tool_use" when tools are given and such a template exists -- as HF does)
//   --date YYYY-MM-DD         the fixed date strftime_now() formats (default 2024-07-26); time is 00:00:00
//   --date-string STR         pass date_string=STR (Llama 3.1/3.2 templates); default: not passed, so the
//                             template's own default applies (Llama 3.1: "26 Jul 2024"), as in HF
//   --var KEY=JSON            extra template variable (e.g. --var enable_thinking=false); repeatable
//   --json                    print JSON-encoded strings even for a single document
//   --tokenize TOKENIZER_JSON also print the token ids of the rendered prompt (HF tokenizes the rendered chat
//                             with add_special_tokens=False); needs npm `tokenizers`. Output becomes JSON lines
//                             {"text": "...", "ids": [...]}
//
// Template variables supplied, as HF's apply_chat_template does (compiled_template.render(messages=chat,
// tools=tool_schemas, documents=documents, add_generation_prompt=..., **special_tokens_map, **kwargs)):
//   messages; tools and documents (null = Python None unless the document gives them); add_generation_prompt;
//   each special token of tokenizer_config.json that is set, as a string (bos_token, eos_token, unk_token, pad_token,
//   sep_token, cls_token, mask_token, additional_special_tokens; AddedToken dicts are reduced to their content);
//   extra keys of the document object and --var values (these override the special tokens, like HF kwargs);
//   globals raise_exception() and strftime_now() (here with a fixed date instead of datetime.now()).
// Jinja dialect: @huggingface/jinja runs with trim_blocks/lstrip_blocks on, like HF's ImmutableSandboxedEnvironment;
// its tojson prints Python json.dumps style ({"a": 1}, ensure_ascii=False).
'use strict';
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); throw e; });
const fs = require('fs');
const path = require('path');

function req(name) {
  const local = path.join(__dirname, 'node_modules', name);
  try { return require(local); } catch (e) { return require(name); }
}

function usage(msg) {
  if (msg) process.stderr.write('error: ' + msg + '\n');
  process.stderr.write('usage: node ref_chat_template.js TOKENIZER_CONFIG_JSON MESSAGES_FILE [--no-generation-prompt] ' +
    '[--continue-final] [--template FILE] [--template-name NAME] [--date YYYY-MM-DD] [--date-string STR] ' +
    '[--var KEY=JSON]... [--json] [--tokenize TOKENIZER_JSON]\n');
  process.exit(2);
}

// Python-compatible strftime (C locale) for the directives chat templates use.
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
function strftime(d, fmt) {
  const p2 = (n) => String(n).padStart(2, '0');
  const start = Date.UTC(d.getUTCFullYear(), 0, 1);
  const yday = Math.floor((d.getTime() - start) / 86400000) + 1;
  return fmt.replace(/%([a-zA-Z%])/g, (m, c) => {
    switch (c) {
      case 'Y': return String(d.getUTCFullYear());
      case 'y': return p2(d.getUTCFullYear() % 100);
      case 'm': return p2(d.getUTCMonth() + 1);
      case 'd': return p2(d.getUTCDate());
      case 'e': return String(d.getUTCDate()).padStart(2, ' ');
      case 'b': case 'h': return MONTHS[d.getUTCMonth()].slice(0, 3);
      case 'B': return MONTHS[d.getUTCMonth()];
      case 'a': return DAYS[d.getUTCDay()].slice(0, 3);
      case 'A': return DAYS[d.getUTCDay()];
      case 'w': return String(d.getUTCDay());
      case 'j': return String(yday).padStart(3, '0');
      case 'H': return p2(d.getUTCHours());
      case 'I': return p2(((d.getUTCHours() + 11) % 12) + 1);
      case 'p': return d.getUTCHours() < 12 ? 'AM' : 'PM';
      case 'M': return p2(d.getUTCMinutes());
      case 'S': return p2(d.getUTCSeconds());
      case 'F': return `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`;
      case '%': return '%';
      default: return m;
    }
  });
}

function tokenString(v) {
  if (v == null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && typeof v.content === 'string') return v.content; // {"__type":"AddedToken","content":...}
  return undefined;
}

function specialTokensMap(cfg) {
  const out = {};
  for (const k of ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token']) {
    const s = tokenString(cfg[k]);
    if (s !== undefined) out[k] = s;
  }
  if (Array.isArray(cfg.additional_special_tokens)) {
    out.additional_special_tokens = cfg.additional_special_tokens.map(tokenString).filter((x) => x !== undefined);
  }
  return out;
}

function pickTemplate(cfg, opt, hasTools) {
  if (opt.template) return fs.readFileSync(opt.template, 'utf8');
  let ct = cfg.chat_template;
  if (ct == null) {
    throw new Error('tokenizer_config.json has no chat_template (pass --template FILE)');
  }
  if (Array.isArray(ct)) {
    const byName = Object.fromEntries(ct.map((x) => [x.name, x.template]));
    let name = opt.templateName;
    if (!name) name = hasTools && byName.tool_use ? 'tool_use' : 'default';
    if (!(name in byName)) throw new Error(`no chat template named "${name}" (have: ${Object.keys(byName).join(', ')})`);
    return byName[name];
  }
  if (opt.templateName) throw new Error('--template-name given but chat_template is a single string');
  return ct;
}

// Template.render() pre-declares strftime_now/raise_exception and refuses redeclaration, so build the root
// environment here with the same globals (true/false/none/True/False/None, range) plus our own functions.
function pyRange(start, stop, step) {
  if (stop === undefined || stop === null) { stop = start; start = 0; }
  step = step === undefined || step === null ? 1 : step;
  if (step === 0) throw new Error('range() arg 3 must not be zero');
  const out = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}
let JINJA = null;
function renderTemplate(tpl, vars) {
  const { Environment, Interpreter } = JINJA;
  const env = new Environment();
  const globals = { false: false, true: true, none: null, False: false, True: true, None: null, range: pyRange };
  for (const [k, v] of Object.entries({ ...globals, ...vars })) env.set(k, v);
  return new Interpreter(env).run(tpl.parsed).value;
}

function render(cfg, doc, opt, TemplateCls, cache) {
  const payload = Array.isArray(doc) ? { messages: doc } : doc;
  if (!payload || !Array.isArray(payload.messages)) throw new Error('each document must be a messages array or {"messages": [...]}');
  const hasTools = Array.isArray(payload.tools) && payload.tools.length > 0;
  const src = pickTemplate(cfg, opt, hasTools);
  let tpl = cache.get(src);
  if (!tpl) { tpl = new TemplateCls(src); cache.set(src, tpl); }
  const fixed = opt.date;
  const vars = {
    ...specialTokensMap(cfg),
    tools: null,
    documents: null,
    add_generation_prompt: opt.addGenerationPrompt,
    ...Object.fromEntries(Object.entries(payload).filter(([k]) => k !== 'messages')),
    messages: payload.messages,
    ...opt.vars,
    strftime_now: (fmt) => strftime(fixed, fmt),
    raise_exception: (msg) => { throw new Error('raise_exception: ' + msg); },
  };
  if (opt.dateString !== undefined) vars.date_string = opt.dateString;
  let text = renderTemplate(tpl, vars);
  if (opt.continueFinal) {
    let fin = payload.messages[payload.messages.length - 1].content;
    if (Array.isArray(fin)) {
      const block = [...fin].reverse().find((b) => b && typeof b.text === 'string');
      if (!block) throw new Error('continue_final_message: final message has no text block');
      fin = block.text;
    }
    const f = String(fin).trim();
    const at = text.lastIndexOf(f);
    if (at < 0) throw new Error('continue_final_message: final message content not found in the rendered chat');
    text = text.slice(0, at + f.length).trimEnd();
  }
  return text;
}

async function main() {
  const args = process.argv.slice(2);
  const pos = [];
  const opt = { addGenerationPrompt: true, continueFinal: false, template: null, templateName: null,
    date: new Date(Date.UTC(2024, 6, 26)), dateString: undefined, vars: {}, json: false, tokenize: null };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = () => { if (i + 1 >= args.length) usage(a + ' needs a value'); return args[++i]; };
    if (a === '--no-generation-prompt') opt.addGenerationPrompt = false;
    else if (a === '--continue-final') { opt.continueFinal = true; opt.addGenerationPrompt = false; }
    else if (a === '--template') opt.template = next();
    else if (a === '--template-name') opt.templateName = next();
    else if (a === '--date') {
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(next());
      if (!m) usage('--date takes YYYY-MM-DD');
      opt.date = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
    } else if (a === '--date-string') opt.dateString = next();
    else if (a === '--var') {
      const kv = next(); const eq = kv.indexOf('=');
      if (eq <= 0) usage('--var takes KEY=JSON');
      const k = kv.slice(0, eq); const v = kv.slice(eq + 1);
      try { opt.vars[k] = JSON.parse(v); } catch (e) { opt.vars[k] = v; }
    } else if (a === '--json') opt.json = true;
    else if (a === '--tokenize') opt.tokenize = next();
    else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('--')) usage('unknown option ' + a);
    else pos.push(a);
  }
  if (pos.length !== 2) usage('need TOKENIZER_CONFIG_JSON and MESSAGES_FILE');

  JINJA = req('@huggingface/jinja');
  const { Template } = JINJA;
  const cfg = JSON.parse(fs.readFileSync(pos[0], 'utf8'));
  const rawText = fs.readFileSync(pos[1], 'utf8');
  let docs; let single = false;
  try { docs = [JSON.parse(rawText)]; single = true; } catch (e) {
    docs = rawText.split('\n').filter((l) => l.trim()).map((l, i) => {
      try { return JSON.parse(l); } catch (err) { throw new Error(`${pos[1]}:${i + 1}: not valid JSON: ${err.message}`); }
    });
  }
  const cache = new Map();
  const texts = docs.map((d, i) => {
    try { return render(cfg, d, opt, Template, cache); } catch (e) {
      throw new Error((single ? '' : `${pos[1]}:${i + 1}: `) + (e && e.message || e));
    }
  });

  if (opt.tokenize) {
    const { Tokenizer } = req('tokenizers');
    const tok = Tokenizer.fromFile(opt.tokenize);
    for (const t of texts) {
      const enc = await tok.encode(t, null, { addSpecialTokens: false });
      process.stdout.write(JSON.stringify({ text: t, ids: enc.getIds() }) + '\n');
    }
    return;
  }
  if (single && !opt.json) process.stdout.write(texts[0]);
  else for (const t of texts) process.stdout.write(JSON.stringify(t) + '\n');
}

main().catch((e) => { process.stderr.write('error: ' + (e && e.message || e) + '\n'); process.exit(1); });
