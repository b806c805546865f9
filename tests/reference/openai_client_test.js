// Drives the gateway's HTTP API with the official `openai` npm client (v6), unchanged:
//   node openai_client_test.js BASE_URL MODEL [KOREAN_MODEL]
// Exits 0 when every check passes; prints each failure and exits 1 otherwise.
'use strict';
const OpenAI = require('openai');

const [baseURL, model, koreanModel] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0, timeout: 60000 });
let failures = 0;
function check(cond, what) {
  if (!cond) {
    failures++;
    console.error(`FAIL: ${what}`);
  }
}

async function chatText(m, content, extra = {}) {
  const r = await client.chat.completions.create({
    model: m, messages: [{ role: 'user', content }], temperature: 0, ...extra });
  return r;
}

async function streamedChat(m, content, extra = {}) {
  const stream = await client.chat.completions.create({
    model: m, messages: [{ role: 'user', content }], temperature: 0, stream: true,
    stream_options: { include_usage: true }, ...extra });
  let text = '';
  let usage = null;
  let finish = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      text += choice.delta.content ?? '';
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  return { text, usage, finish };
}

async function main() {
  const models = await client.models.list();
  check(models.data.some((m) => m.id === model), `models.list() has ${model}`);

  const unary = await chatText(model, 'Once upon a time', { max_tokens: 24 });
  const content = unary.choices[0].message.content;
  check(typeof content === 'string' && content.length > 0, 'chat completion has content');
  check(unary.choices[0].finish_reason === 'length', 'chat finish_reason is length');
  check(unary.usage.completion_tokens === 24, 'chat usage counts 24 tokens');

  const streamed = await streamedChat(model, 'Once upon a time', { max_tokens: 24 });
  check(streamed.text === content, `streamed chat equals unary: ${JSON.stringify(streamed.text)}`);
  check(streamed.usage && streamed.usage.completion_tokens === 24, 'stream usage chunk');
  check(streamed.finish === 'length', 'stream finish_reason');

  const completion = await client.completions.create({
    model, prompt: 'Once upon a time', max_tokens: 20, temperature: 0, stop: [' named'] });
  check(completion.choices[0].text === ', there was a little girl',
        `completion with a stop string: ${JSON.stringify(completion.choices[0].text)}`);
  check(completion.choices[0].finish_reason === 'stop', 'completion finish_reason is stop');

  const response = await client.responses.create({
    model, input: 'Once upon a time', max_output_tokens: 16, temperature: 0 });
  check(response.output_text.length > 0, 'responses.create output_text');
  const events = await client.responses.create({
    model, input: 'Once upon a time', max_output_tokens: 16, temperature: 0, stream: true });
  let deltas = '';
  let last = null;
  for await (const event of events) {
    if (event.type === 'response.output_text.delta') deltas += event.delta;
    last = event;
  }
  check(deltas === response.output_text, 'streamed response equals unary');
  check(last && (last.type === 'response.completed' || last.type === 'response.incomplete'),
        `the last response event is final: ${last && last.type}`);

  try {
    await chatText('no-such-model', 'hi', { max_tokens: 4 });
    check(false, 'unknown model throws');
  } catch (e) {
    check(e instanceof OpenAI.NotFoundError, `unknown model is a NotFoundError: ${e}`);
    check(/served models: /.test(e.message), `the 404 lists the served models: ${e.message}`);
  }
  try {
    await chatText(model, 'hi', { max_tokens: 4, temperature: -1 });
    check(false, 'negative temperature throws');
  } catch (e) {
    check(e instanceof OpenAI.BadRequestError, `bad temperature is a BadRequestError: ${e}`);
    check(/temperature/.test(e.message), `the 400 names the field: ${e.message}`);
  }

  if (koreanModel) {
    // A byte-level BPE model: Korean syllables span several tokens. The deltas must join to
    // exactly the unary text (no U+FFFD from a split character).
    const prompt = '안녕하세요! 한국어로 짧은 이야기를 들려주세요.';
    const extra = { max_tokens: 48, ignore_eos: true };
    const k = await chatText(koreanModel, prompt, extra);
    const ks = await streamedChat(koreanModel, prompt, extra);
    check(ks.text === k.choices[0].message.content,
          `Korean-tokenizer stream equals unary: ${JSON.stringify(ks.text)} vs ` +
          JSON.stringify(k.choices[0].message.content));
  }
}

main().then(() => {
  if (failures) process.exit(1);
  console.log('openai client: all checks passed');
}, (e) => {
  console.error(`FAIL: ${e.stack || e}`);
  process.exit(1);
});
