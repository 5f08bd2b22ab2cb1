import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as vm from 'node:vm';
import { inspect } from 'node:util';
import { MIMEBUNDLE, bundles, toDisplayData, type DisplayData } from './format.js';
import { escapeHtml } from './html.js';

/** A duck-typed tfjs-like tensor over a Float32Array, counting reads. */
function fakeTensor(shape: number[], fill: (i: number) => number = (i) => i, dtype = 'float32') {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = fill(i);
  const calls = { dataSync: 0, arraySync: 0 };
  const tensor = {
    shape,
    dtype,
    rank: shape.length,
    size,
    isDisposed: false,
    dataSync: () => {
      calls.dataSync++;
      return values;
    },
    arraySync: () => {
      calls.arraySync++;
      throw new Error('arraySync should not be needed when dataSync works');
    },
  };
  return { tensor, calls };
}

const text = (display: DisplayData): string => {
  const plain = display.data['text/plain'];
  assert.equal(typeof plain, 'string');
  return plain as string;
};

test('MIMEBUNDLE is the registered jupyter.mimebundle symbol', () => {
  assert.equal(MIMEBUNDLE, Symbol.for('jupyter.mimebundle'));
});

test('a small tensor prints a shape header, its values and an HTML table', () => {
  const { tensor } = fakeTensor([2, 3], (i) => i + 1);
  const display = toDisplayData(tensor);
  assert.equal(text(display), 'Tensor float32 [2, 3]\n[[1, 2, 3],\n [4, 5, 6]]');
  const html = display.data['text/html'] as string;
  assert.match(html, /^<table/);
  assert.match(html, /<caption>Tensor float32 \[2, 3\]<\/caption>/);
  assert.equal(html.match(/<td>/g)?.length, 6);
  assert.match(html, /<td>6<\/td>/);
  assert.deepEqual(display.metadata, {});
});

test('tensor values have at most 6 significant digits and aligned columns', () => {
  const values = [1 / 3, -2.5, 1234567.8, 1e-7, NaN, 100];
  const { tensor } = fakeTensor([2, 3], (i) => values[i]!);
  assert.equal(text(toDisplayData(tensor)), 'Tensor float32 [2, 3]\n[[  0.333333,       -2.5, 1.23457e+6],\n [      1e-7,        NaN,        100]]');
  const ints = fakeTensor([3], (i) => [7, -12, 1234567][i]!, 'int32').tensor;
  assert.equal(text(toDisplayData(ints)), 'Tensor int32 [3]\n[      7,     -12, 1234567]');
  const bools = fakeTensor([2], (i) => i, 'bool').tensor;
  assert.equal(text(toDisplayData(bools)), 'Tensor bool [2]\n[false,  true]');
});

test('a [1000, 1000] tensor is summarised numpy-style, quickly and with bounded output', () => {
  const { tensor, calls } = fakeTensor([1000, 1000]);
  const started = process.hrtime.bigint();
  const display = toDisplayData(tensor);
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  const plain = text(display);
  assert.ok(elapsedMs < 500, `formatting took ${elapsedMs} ms`);
  assert.ok(plain.length < 2000, `output is ${plain.length} characters`);
  assert.ok(plain.startsWith('Tensor float32 [1000, 1000]\n[['));
  assert.ok(plain.includes('...'));
  const lines = plain.split('\n');
  assert.equal(lines.length, 1 + 7, 'header + 3 rows + "...," + 3 rows');
  assert.equal(lines[4], ' ...,');
  assert.match(lines[1]!, /^\[\[\s*0,\s*1,\s*2, \.\.\.,\s*997,\s*998,\s*999\],$/);
  assert.match(lines[7]!, /^ \[\s*999000,\s*999001,\s*999002, \.\.\.,\s*999997,\s*999998,\s*999999\]\]$/);
  assert.equal(display.data['text/html'], undefined, 'no table for large tensors');
  assert.ok(calls.dataSync <= 1);
  assert.equal(calls.arraySync, 0);
});

test('any tensor shape prints a bounded number of values', () => {
  const { tensor } = fakeTensor(new Array(20).fill(2));
  const plain = text(toDisplayData(tensor));
  assert.ok(plain.length < 40_000, `output is ${plain.length} characters`);
  assert.ok(plain.includes('...'));
});

test('rank-3, scalar and empty tensors', () => {
  const cube = fakeTensor([2, 2, 2]).tensor;
  assert.equal(text(toDisplayData(cube)), 'Tensor float32 [2, 2, 2]\n[[[0, 1],\n  [2, 3]],\n\n [[4, 5],\n  [6, 7]]]');
  assert.equal(toDisplayData(cube).data['text/html'], undefined);
  assert.equal(text(toDisplayData(fakeTensor([], () => 3.5).tensor)), 'Tensor float32 []\n3.5');
  assert.equal(text(toDisplayData(fakeTensor([2, 0]).tensor)), 'Tensor float32 [2, 0]\n[]');
});

test('a tensor with only arraySync formats from the nested array', () => {
  const tensor = { shape: [2, 2], dtype: 'float32', rank: 2, arraySync: () => [[1, 2], [3, 4.25]] };
  assert.equal(text(toDisplayData(tensor)), 'Tensor float32 [2, 2]\n[[   1,    2],\n [   3, 4.25]]');
});

test('a disposed tensor says so without reading its values', () => {
  const { tensor, calls } = fakeTensor([2, 3]);
  tensor.isDisposed = true;
  const display = toDisplayData(tensor);
  assert.equal(text(display), 'Tensor float32 [2, 3] (disposed)');
  assert.equal(display.data['text/html'], undefined);
  assert.equal(calls.dataSync, 0);
});

test('a tensor whose dataSync throws still prints its header', () => {
  const tensor = { shape: [2], dtype: 'float32', rank: 1, dataSync: () => { throw new Error('backend gone'); } };
  assert.equal(text(toDisplayData(tensor)), 'Tensor float32 [2] (values unavailable: Error: backend gone)');
});

test('tensors and records from another realm format the same', () => {
  const context = vm.createContext({});
  const tensor = vm.runInContext(
    `({ shape: [2, 3], dtype: 'float32', rank: 2, dataSync: () => new Float32Array([1, 2, 3, 4, 5, 6]) })`,
    context,
  ) as unknown;
  assert.equal(text(toDisplayData(tensor)), 'Tensor float32 [2, 3]\n[[1, 2, 3],\n [4, 5, 6]]');
  const records = vm.runInContext(`[{ a: 1, b: 'x' }, { a: 2, b: 'y' }]`, context) as unknown;
  const local = [{ a: 1, b: 'x' }, { a: 2, b: 'y' }];
  assert.deepEqual(toDisplayData(records).data, toDisplayData(local).data);
  const typed = vm.runInContext('new Uint8Array([1, 2, 3])', context) as unknown;
  assert.equal(text(toDisplayData(typed)), 'Uint8Array(3) [ 1, 2, 3 ]');
});

test('records get an HTML table with escaped content', () => {
  const rows = [
    { name: '<script>alert("x")</script>', score: 1 },
    { name: 'Tom & Jerry', score: 2, '<key>': "it's" },
  ];
  const display = toDisplayData(rows);
  assert.equal(text(display), inspect(rows, { maxArrayLength: 100, breakLength: 100, depth: 4, colors: false }));
  const html = display.data['text/html'] as string;
  assert.match(html, /^<table/);
  assert.ok(!html.includes('<script>'), 'no raw script tag');
  assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'));
  assert.ok(html.includes('Tom &amp; Jerry'));
  assert.ok(html.includes('<th>&lt;key&gt;</th>'));
  assert.ok(html.includes('it&#39;s'));
  assert.equal(html.match(/<tr>/g)?.length, 3, 'header + 2 rows');
  assert.ok(!html.includes('Showing'), 'no truncation note');
});

test('long record arrays show 200 rows and say how many there are', () => {
  const rows = Array.from({ length: 250 }, (_, i) => ({ i, square: i * i }));
  const html = toDisplayData(rows).data['text/html'] as string;
  assert.equal(html.match(/<tr>/g)?.length, 201);
  assert.match(html, /200 of 250 rows/);
});

test('arrays that are not records get no table', () => {
  assert.equal(toDisplayData([1, 2, 3]).data['text/html'], undefined);
  assert.equal(toDisplayData([{ a: 1 }, new Map()]).data['text/html'], undefined);
  assert.equal(toDisplayData([{ a: 1 }, { b: 2 }]).data['text/html'], undefined);
  assert.equal(toDisplayData([]).data['text/html'], undefined);
  class Point {
    constructor(readonly x: number) {}
  }
  assert.equal(toDisplayData([new Point(1)]).data['text/html'], undefined);
});

test('the MIMEBUNDLE method overrides formatting', () => {
  const bare = { [MIMEBUNDLE]: () => ({ 'text/html': '<b>hi</b>' }) };
  const display = toDisplayData(bare);
  assert.equal(display.data['text/html'], '<b>hi</b>');
  assert.equal(typeof display.data['text/plain'], 'string', 'text/plain is added');
  assert.deepEqual(display.metadata, {});

  class Celsius {
    constructor(readonly degrees: number) {}
    [MIMEBUNDLE]() {
      return { data: { 'text/plain': `${this.degrees} °C`, 'image/png': new Uint8Array([1, 2, 3]) }, metadata: { 'image/png': { width: 4 } } };
    }
  }
  assert.deepEqual(toDisplayData(new Celsius(21)), {
    data: { 'text/plain': '21 °C', 'image/png': 'AQID' },
    metadata: { 'image/png': { width: 4 } },
  });
  // A tensor with its own bundle uses the bundle.
  const { tensor } = fakeTensor([2]);
  Object.assign(tensor, { [MIMEBUNDLE]: () => ({ 'text/plain': 'mine' }) });
  assert.equal(text(toDisplayData(tensor)), 'mine');
});

test('a throwing or broken MIMEBUNDLE falls back to the normal formatting with a note', () => {
  const throwing = { a: 1, [MIMEBUNDLE]: () => { throw new TypeError('boom'); } };
  let display: DisplayData | undefined;
  assert.doesNotThrow(() => {
    display = toDisplayData(throwing);
  });
  const plain = text(display!);
  assert.ok(plain.includes('a: 1'), plain);
  assert.ok(plain.includes('TypeError: boom'), plain);

  const records = Object.assign([{ x: 1 }], { [MIMEBUNDLE]: () => 42 });
  const fallback = toDisplayData(records);
  assert.match(text(fallback), /returned 42 instead of a MIME bundle/);
  assert.match(fallback.data['text/html'] as string, /^<table/, 'normal rich formatting is kept');

  const asyncBundle = { [MIMEBUNDLE]: async () => ({ 'text/html': 'x' }) };
  assert.match(text(toDisplayData(asyncBundle)), /Promise/);
});

test('circular structures, throwing getters and throwing inspectors never crash', () => {
  const a: Record<string, unknown> = { name: 'a' };
  a.self = a;
  assert.equal(text(toDisplayData(a)), "<ref *1> { name: 'a', self: [Circular *1] }");

  const getter = {
    get bad(): never {
      throw new Error('nope');
    },
  };
  assert.equal(text(toDisplayData(getter)), '{ bad: [Getter] }');

  const hostile = { [inspect.custom]: () => { throw new Error('no inspect'); } };
  assert.equal(text(toDisplayData(hostile)), '[object Object]');

  const rows = [{ ok: 1, get bad(): never { throw new Error('cell'); } }];
  const html = toDisplayData(rows).data['text/html'] as string;
  assert.match(html, /Error: cell/);
});

test('primitives and built-ins print like the Node REPL', () => {
  assert.equal(text(toDisplayData('abc')), "'abc'");
  assert.equal(text(toDisplayData("it's")), `"it's"`);
  assert.equal(text(toDisplayData(42)), '42');
  assert.equal(text(toDisplayData(10n)), '10n');
  assert.equal(text(toDisplayData(undefined)), 'undefined');
  assert.equal(text(toDisplayData(null)), 'null');
  assert.equal(text(toDisplayData(Symbol('s'))), 'Symbol(s)');
  assert.equal(text(toDisplayData(function f() {})), '[Function: f]');
  assert.equal(text(toDisplayData(new Map([['k', 1]]))), "Map(1) { 'k' => 1 }");
  assert.equal(text(toDisplayData(new Set([1]))), 'Set(1) { 1 }');
  assert.equal(text(toDisplayData(new Date(0))), '1970-01-01T00:00:00.000Z');
  assert.match(text(toDisplayData(new RangeError('bad'))), /^RangeError: bad\n\s+at /);
  const long = text(toDisplayData(Array.from({ length: 1000 }, (_, i) => i)));
  assert.match(long, /\.\.\. 900 more items/);
  assert.ok(!long.includes('\u001b['), 'no ANSI colors');
  assert.match(text(toDisplayData(new Float64Array(500))), /^Float64Array\(500\) \[/);
  const deep = text(toDisplayData({ a: { b: { c: { d: { e: { f: 1 } } } } } }));
  assert.match(deep, /d: \{ e: \[Object\] \}/, 'depth 4');
  assert.ok(!deep.includes('f: 1'));
});

test('toHTML and _repr_html_ provide text/html', () => {
  class Card {
    toHTML() {
      return '<div>card</div>';
    }
  }
  const card = toDisplayData(new Card());
  assert.equal(card.data['text/html'], '<div>card</div>');
  assert.equal(card.data['text/plain'], 'Card {}');
  const repr = toDisplayData({ _repr_html_: () => '<i>r</i>', _repr_markdown_: () => '*r*' });
  assert.equal(repr.data['text/html'], '<i>r</i>');
  assert.equal(repr.data['text/markdown'], '*r*');
  const broken = toDisplayData({ toHTML: () => { throw new Error('x'); } });
  assert.equal(broken.data['text/html'], undefined);
});

test('results survive structured cloning (they are posted from the worker)', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.me = cyclic;
  for (const value of [fakeTensor([2, 2]).tensor, [{ a: 1 }], cyclic, () => 1, Symbol('x'), bundles.plotly([{ y: new Float32Array([1]) }])]) {
    const display = toDisplayData(value);
    assert.deepEqual(structuredClone(display), { data: { ...display.data }, metadata: { ...display.metadata } });
  }
  const json = toDisplayData({ [MIMEBUNDLE]: () => ({ 'application/json': cyclic, 'text/plain': 'c' }) });
  assert.deepEqual(json.data['application/json'], { me: '[Circular]' });
});

const PNG_BYTES = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 3, 0, 0, 0, 2, 8, 6, 0, 0, 0]);
const PNG_BASE64 = Buffer.from(PNG_BYTES).toString('base64');

test('png accepts bytes, base64 and data: URLs and sends bare base64', () => {
  const fromBytes = bundles.png(PNG_BYTES);
  assert.equal(fromBytes.data['image/png'], PNG_BASE64);
  assert.equal(fromBytes.data['text/plain'], '<PNG image 3x2>');
  assert.deepEqual(fromBytes.metadata, {});
  assert.equal(bundles.png(PNG_BASE64).data['image/png'], PNG_BASE64);
  assert.equal(bundles.png(`data:image/png;base64,${PNG_BASE64}`).data['image/png'], PNG_BASE64);
  assert.equal(bundles.png(`  data:image/png;base64,${PNG_BASE64.slice(0, 8)}\n${PNG_BASE64.slice(8)}  `).data['image/png'], PNG_BASE64);
  assert.equal(bundles.png('data:image/png,%89PNG').data['image/png'], Buffer.from([0x89, 0x50, 0x4e, 0x47]).toString('base64'));
  const view = new Uint8Array([9, 9, 1, 2, 3, 9]).subarray(2, 5);
  assert.equal(bundles.png(view).data['image/png'], 'AQID');
  assert.throws(() => bundles.png(42 as unknown as string), TypeError);
});

test('png/jpeg width and height land in the metadata', () => {
  assert.deepEqual(bundles.png(PNG_BYTES, { width: 300, height: 200 }).metadata, { 'image/png': { width: 300, height: 200 } });
  assert.deepEqual(bundles.png(PNG_BYTES, { width: 300 }).metadata, { 'image/png': { width: 300 } });
  const jpeg = bundles.jpeg('data:image/jpeg;base64,/9j/4AAQ', { height: 50 });
  assert.deepEqual(jpeg, { data: { 'image/jpeg': '/9j/4AAQ', 'text/plain': '<JPEG image>' }, metadata: { 'image/jpeg': { height: 50 } } });
});

test('plotly bundles carry data, layout and config', () => {
  const figure = bundles.plotly({ data: [{ x: [1, 2], y: new Float32Array([3, 4]), type: 'scatter' }], layout: { title: 'T' } });
  assert.deepEqual(figure.data['application/vnd.plotly.v1+json'], {
    data: [{ x: [1, 2], y: [3, 4], type: 'scatter' }],
    layout: { title: 'T' },
    config: {},
  });
  assert.equal(figure.data['text/plain'], '<Plotly figure: 1 trace>');
  const traces = bundles.plotly([{ y: [1] }, { y: [2] }], { height: 300 });
  assert.deepEqual(traces.data['application/vnd.plotly.v1+json'], { data: [{ y: [1] }, { y: [2] }], layout: { height: 300 }, config: {} });
  assert.equal(traces.data['text/plain'], '<Plotly figure: 2 traces>');
  const withTensor = bundles.plotly([{ y: fakeTensor([3], (i) => i * 2).tensor }]);
  assert.deepEqual((withTensor.data['application/vnd.plotly.v1+json'] as { data: unknown }).data, [{ y: [0, 2, 4] }]);
  assert.throws(() => bundles.plotly({ layout: {} } as never), TypeError);
});

test('html, markdown, svg, json, latex and text helpers', () => {
  assert.equal(bundles.html('<b>x</b>').data['text/html'], '<b>x</b>');
  assert.equal(bundles.markdown('# T').data['text/markdown'], '# T');
  assert.equal(bundles.svg('<svg/>').data['image/svg+xml'], '<svg/>');
  assert.deepEqual(bundles.text('plain'), { data: { 'text/plain': 'plain' }, metadata: {} });
  const json = bundles.json({ a: [1, 2], n: 3n, when: new Date(0) }, { expanded: true });
  assert.deepEqual(json.data['application/json'], { a: [1, 2], n: 3, when: '1970-01-01T00:00:00.000Z' });
  assert.deepEqual(json.metadata, { 'application/json': { expanded: true } });
  assert.deepEqual(bundles.json([1]).metadata, {});
  assert.equal(bundles.latex('x^2').data['text/latex'], '$$x^2$$');
  assert.equal(bundles.latex('$x^2$').data['text/latex'], '$x^2$');
  for (const made of [bundles.html('a'), bundles.markdown('a'), bundles.svg('a'), bundles.json(1), bundles.latex('a'), bundles.png('AQID')]) {
    assert.equal(typeof made.data['text/plain'], 'string');
  }
});

test('a helper result passed to toDisplayData shows the bundle, not the object', () => {
  const made = bundles.html('<b>x</b>');
  const display = toDisplayData(made);
  assert.deepEqual(display, { data: { 'text/html': '<b>x</b>', 'text/plain': '<HTML output>' }, metadata: {} });
  assert.deepEqual(toDisplayData(bundles.png(PNG_BYTES, { width: 5 })).metadata, { 'image/png': { width: 5 } });
});

test('escapeHtml escapes the five special characters', () => {
  assert.equal(escapeHtml(`<a href="x">Tom & 'Jerry'</a>`), '&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;');
});
