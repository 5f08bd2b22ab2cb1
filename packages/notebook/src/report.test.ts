import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { createRunRecord } from '@hyperlab/core/runs';
import { RUN_RECORD_MIME, type Notebook } from './nbformat.js';
import { REPORT_SCRIPT } from './report-assets.js';
import { renderReport } from './report.js';
import { assertUntouched, hyperlab, snapshot, tmpDir } from './testing.js';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const PLOTLY_FILE = require.resolve('plotly.js-dist-min');

function richNotebook(): Notebook {
  const record = createRunRecord({
    name: 'lora r=4', id: 'run-1', createdAt: '2026-01-01T00:00:00.000Z', config: { method: 'lora', r: 4 }, seed: 7,
    backend: { name: 'wasm', reason: 'default' }, data: [{ name: 'mnist/train', fingerprint: 'f'.repeat(64), size: 60000 }],
    metrics: { accuracy: 0.91, loss: 0.3 }, curves: { loss: { step: [0, 1, 2], value: [1, 0.5, 0.3] } }, timings: { totalMs: 1234 },
  });
  return {
    nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: 'hyperlab', display_name: 'TypeScript (HyperLab)' } },
    cells: [
      {
        cell_type: 'markdown', id: 'md', metadata: {},
        source: '# Adapter study\n\nSee [the paper](https://example.com/paper) and [below](#cell-2).\n\n<script>alert(1)</script>\n\n' +
          '![remote](https://example.com/x.png) ![attached](attachment:dot.png) ![local](dot.png)',
        attachments: { 'dot.png': { 'image/png': PNG } },
      },
      {
        cell_type: 'code', id: 'c1', metadata: {}, source: 'train(<T>() => 1)', execution_count: 3,
        outputs: [
          { output_type: 'stream', name: 'stdout', text: '\x1b[32mepoch 1\x1b[0m <done>\n' },
          { output_type: 'stream', name: 'stderr', text: 'warning\n' },
          { output_type: 'display_data', data: { [RUN_RECORD_MIME]: record, 'text/plain': 'run' }, metadata: {} },
          { output_type: 'display_data', data: { 'application/vnd.plotly.v1+json': { data: [{ x: [1, 2], y: [3, 4], name: '</script><b>' }], layout: { title: { text: 'acc' } } }, 'image/png': PNG, 'text/plain': 'fig' }, metadata: {} },
          { output_type: 'display_data', data: { 'image/svg+xml': '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>', 'text/plain': 'svg' }, metadata: {} },
          { output_type: 'display_data', data: { 'image/png': PNG, 'text/plain': 'png' }, metadata: { 'image/png': { width: 40 } } },
          { output_type: 'display_data', data: { 'text/html': '<table class="user"><tr><td>kept as is</td></tr></table>', 'text/plain': 'html' }, metadata: {} },
          { output_type: 'execute_result', execution_count: 3, data: { 'text/plain': '42 < 43' }, metadata: {} },
        ],
      },
      {
        cell_type: 'code', id: 'c2', metadata: {}, source: 'boom()', execution_count: 4,
        outputs: [{ output_type: 'error', ename: 'Error', evalue: 'boom', traceback: ['\x1b[1;31mError\x1b[0m: boom', '    at <cell>'] }],
      },
      { cell_type: 'raw', id: 'r', metadata: {}, source: '<b>raw</b>' },
    ],
  };
}

/** The HTML without the inlined plotly bundle's own text. */
function withoutPlotly(html: string): string {
  return html.replace(/<script>\/\* plotly\.js-dist-min[\s\S]*?\n<\/script>/, '<script>PLOTLY</script>');
}

test('report: one self-contained page with the runs table, run cards, markdown, outputs and figures', async () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'dot.png'), Buffer.from(PNG, 'base64'));
  const html = await renderReport(richNotebook(), { notebookPath: path.join(dir, 'study.ipynb') });
  assert.ok(html.startsWith('<!DOCTYPE html>\n<html lang="en">'));
  assert.match(html, /<title>Adapter study<\/title>/);

  // plotly.js inlined exactly once, and nothing referenced over the network outside it
  const bundleStart = fs.readFileSync(PLOTLY_FILE, 'utf8').slice(0, 300);
  assert.equal(html.split(bundleStart).length - 1, 1);
  const page = withoutPlotly(html);
  assert.equal(page.match(/<script>PLOTLY<\/script>/g)?.length, 1);
  assert.doesNotMatch(page, /\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
  assert.doesNotMatch(page, /<link\b|@import|url\(\s*["']?https?:/i);

  // the runs table, linking to the card
  assert.match(page, /<table class="runs"><thead><tr><th>run<\/th><th>cell<\/th><th>seed<\/th><th>backend<\/th><th>accuracy<\/th><th>loss<\/th><th>content hash<\/th>/);
  assert.match(page, /<td><a href="#run-0">lora r=4<\/a><\/td><td>1<\/td><td>7<\/td><td>wasm<\/td><td><span class="num">0\.91<\/span><\/td>/);
  // the card: collapsible, with metrics, config, seed, backend, data, curves, environment, hash
  const card = page.slice(page.indexOf('<details class="run" id="run-0">'), page.indexOf('</details>'));
  for (const part of ['<h4>Metrics</h4>', '&quot;method&quot;: &quot;lora&quot;', '<th>seed</th><td>7</td>', 'wasm <span class="muted">(default)</span>',
    `<code>${'f'.repeat(64)}</code>`, '<td>mnist/train</td>', '<h4>Curves</h4><div class="plot"', '<h4>Environment</h4>', '<th>node</th>', '<th>totalMs</th>']) {
    assert.ok(card.includes(part), `card lacks ${part}`);
  }
  assert.ok(card.includes(`<code>${(richNotebook().cells[1] as any).outputs[2].data[RUN_RECORD_MIME].contentHash}</code>`));

  // markdown: rendered, raw HTML escaped, links and images to elsewhere as text, local images embedded
  assert.match(page, /<h1>Adapter study<\/h1>/);
  assert.ok(page.includes('&lt;script&gt;alert(1)&lt;/script&gt;') && !page.includes('<script>alert'));
  assert.ok(page.includes('<span class="link">the paper</span> <span class="url">(https://example.com/paper)</span>'));
  assert.ok(page.includes('<a href="#cell-2">below</a>'));
  assert.ok(page.includes('[image: remote — https://example.com/x.png]'));
  assert.ok(page.includes(`<img src="data:image/png;base64,${PNG}" alt="attached">`), 'attachment embedded');
  assert.ok(page.includes(`<img src="data:image/png;base64,${PNG}" alt="local">`), 'file beside the notebook embedded');

  // outputs
  assert.ok(page.includes('<pre class="source"><code>train(&lt;T&gt;() =&gt; 1)</code></pre>'));
  assert.ok(page.includes('<pre class="stream stdout">epoch 1 &lt;done&gt;\n</pre>'), 'ANSI removed, text escaped');
  assert.ok(page.includes('<pre class="stream stderr">warning\n</pre>'));
  assert.ok(page.includes('<pre class="error">Error: boom\n    at &lt;cell&gt;</pre>'));
  assert.ok(page.includes(`<img src="data:image/png;base64,${PNG}" width="40" alt="figure">`));
  assert.ok(page.includes(`<img src="data:image/svg+xml;base64,${Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>').toString('base64')}"`));
  assert.ok(page.includes('<div class="html-output"><table class="user"><tr><td>kept as is</td></tr></table></div>'));
  assert.ok(page.includes('<div class="prompt out">Out[3]:</div><pre class="text">42 &lt; 43</pre>'));
  assert.ok(page.includes('<section class="cell raw" id="cell-3"><pre>&lt;b&gt;raw&lt;/b&gt;</pre></section>'));
  // the figure: JSON that cannot close its script element, and the image fallback
  assert.ok(page.includes('"name":"\\u003c/script>\\u003cb>"'));
  assert.match(page, /<div class="plot" data-figure="figure-2"><\/div><script type="application\/json" id="figure-2">[^<]*<\/script><noscript><img src="data:image\/png;base64,/);
  assert.ok(!fs.readdirSync(dir).some((f) => f !== 'dot.png'), 'rendering writes nothing');
});

test('report: the inlined bundle is valid JavaScript, and figures are drawn (those in a closed card when it opens)', async () => {
  const html = await renderReport(richNotebook(), { notebookPath: 'study.ipynb' });
  const bundle = /<script>\/\* plotly\.js-dist-min[^\n]*\n([\s\S]*?)\n<\/script>/.exec(html)![1];
  assert.doesNotThrow(() => new vm.Script(bundle, { filename: 'plotly.min.js' }));

  // REPORT_SCRIPT against a minimal document: figure-1 is in the closed run card, figure-2 is visible.
  const drawn: string[] = [];
  const json = (id: string) => /<script type="application\/json" id="([^"]+)">([^<]*)<\/script>/g;
  const figures = new Map([...html.matchAll(json(''))].map((m) => [m[1], m[2]]));
  let toggle: () => void = () => undefined;
  const card = { open: false, addEventListener: (_: string, f: () => void) => (toggle = f), querySelectorAll: () => [plots[0]] };
  const plots = ['figure-1', 'figure-2'].map((figure, i) => ({ dataset: { figure } as Record<string, string>, closest: () => (i === 0 && !card.open ? card : null) }));
  const document = {
    querySelectorAll: (selector: string) => (selector === '.plot' ? plots : [card]),
    getElementById: (id: string) => ({ textContent: figures.get(id) }),
  };
  const Plotly = { newPlot: (el: { dataset: Record<string, string> }, data: Array<{ name?: string }>) => drawn.push(`${el.dataset.figure}:${data.map((t) => t.name).join()}`) };
  vm.runInNewContext(REPORT_SCRIPT, { document, Plotly, Object });
  assert.deepEqual(drawn, ['figure-2:</script><b>']);
  card.open = true;
  toggle();
  toggle();
  assert.deepEqual(drawn, ['figure-2:</script><b>', 'figure-1:loss']);
});

test('hyperlab report: writes NOTEBOOK.html (or -o) atomically; no plotly without figures; the notebook untouched', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'study.ipynb');
  fs.writeFileSync(file, JSON.stringify(richNotebook()));
  const before = snapshot(file);
  const r = hyperlab(['report', file]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /wrote \S+study\.html \(1 run record\)/);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['study.html', 'study.ipynb']);
  assert.match(fs.readFileSync(path.join(dir, 'study.html'), 'utf8'), /<table class="runs">/);
  assertUntouched({ ...before, listing: ['study.html', 'study.ipynb'] });

  const plain = path.join(dir, 'plain.ipynb');
  fs.writeFileSync(plain, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'markdown', id: 'a', metadata: {}, source: 'no title here' }] }));
  const out = path.join(dir, 'sub-report.html');
  assert.equal(hyperlab(['report', plain, '-o', out]).status, 0);
  const html = fs.readFileSync(out, 'utf8');
  assert.match(html, /<title>plain<\/title>/);
  assert.match(html, /No run records in this notebook\./);
  assert.ok(html.length < 20_000 && !html.includes('plotly.js-dist-min'), 'no bundle when nothing is drawn');
  const unwritable = hyperlab(['report', plain, '-o', path.join(dir, 'missing-dir', 'r.html')]);
  assert.equal(unwritable.status, 1);
  assert.match(unwritable.stderr, /cannot write \S+r\.html: ENOENT/);
});
