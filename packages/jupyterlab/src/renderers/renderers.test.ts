import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fnv1a, snapshotNeeded, SNAPSHOT_KEY } from './plotly-snapshot';
import { escapeHtml, formatMetric, runCardHtml, sparkline } from './run-card-html';
import type { RunRecord } from '../records';

const record: RunRecord = {
  schema: 'hyperlab.run/v1',
  id: '1234abcd-0000',
  name: 'lora <1>',
  createdAt: '2026-11-27T00:00:00Z',
  config: { magic: 'adapter', adapter: { method: 'lora', r: 8 }, train: { lr: 0.003 } },
  seed: 0,
  backend: { name: 'wasm', reason: 'auto' },
  environment: { node: 'v20', platform: 'linux', arch: 'x64', packages: { '@tensorflow/tfjs-core': '4.22.0' } },
  data: [{ name: 'mnist/train', fingerprint: 'ab'.repeat(32), size: 29404 }],
  metrics: { accuracy: 0.97159999, trainableParams: 12037, loss: 'NaN' },
  curves: { 'train/loss': { step: [1, 2, 3], value: [2, 1, 0.5] }, 'test/accuracy': { step: [0], value: [0.2] } },
  timings: { totalMs: 2900 },
  contentHash: 'f'.repeat(64),
};

test('run card: name (escaped), method, seed, backend, time, hash, metrics, curves, config and environment', () => {
  const html = runCardHtml(record);
  assert.match(html, /^<details class="hl-run-card" open data-kind="adapter">/);
  assert.doesNotMatch(html, /hl-run-kind|hl-run-matrix/, 'an adapter run has no kind summary and no matrix');
  assert.match(html, /<span class="hl-run-name">lora &lt;1&gt;<\/span>/);
  assert.match(html, /<span class="hl-run-method">lora<\/span>/);
  assert.match(html, /seed 0 · wasm · 2\.9 s · <code title="f{64}">f{12}<\/code>/);
  assert.match(html, /<tr><th>accuracy<\/th><td>0\.9716<\/td><\/tr><tr><th>trainableParams<\/th><td>12,037<\/td><\/tr><tr><th>loss<\/th><td>NaN<\/td><\/tr>/);
  assert.equal((html.match(/<svg class="hl-sparkline"/g) ?? []).length, 1, 'a sparkline for the curve with ≥ 2 points only');
  assert.match(html, /<summary>config<\/summary><pre>adapter:\n  method: lora\n  r: 8\nmagic: adapter\ntrain:\n  lr: 0\.003\n<\/pre>/);
  assert.match(html, /mnist\/train — 29,404 examples/);
  assert.match(html, /node v20 · linux-x64 · @tensorflow\/tfjs-core 4\.22\.0/);
  assert.doesNotMatch(html, /<script/);
});

test('formatMetric, sparkline and escapeHtml', () => {
  assert.equal(formatMetric(1234567), '1,234,567');
  assert.equal(formatMetric(0.0000123456), '1.235e-5');
  assert.equal(formatMetric('Infinity'), 'Infinity');
  assert.equal(sparkline([1], '#000'), '');
  const svg = sparkline(Array.from({ length: 1000 }, (_, i) => i), '#000', 140);
  assert.ok((svg.match(/ /g) ?? []).length < 120, 'thinned to about one point per two pixels');
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('a PNG snapshot is needed unless the output has one of this very figure', () => {
  const hash = fnv1a(JSON.stringify({ data: [1] }));
  assert.equal(hash, fnv1a(JSON.stringify({ data: [1] })));
  assert.notEqual(hash, fnv1a(JSON.stringify({ data: [2] })));
  assert.equal(snapshotNeeded({}, {}, hash), true);
  assert.equal(snapshotNeeded({ 'image/png': 'AAA' }, { [SNAPSHOT_KEY]: hash }, hash), false);
  assert.equal(snapshotNeeded({ 'image/png': 'AAA' }, { [SNAPSHOT_KEY]: 'other' }, hash), true, 'a changed figure gets a new snapshot');
  assert.equal(snapshotNeeded({ 'image/png': 'AAA' }, {}, hash), true);
});
