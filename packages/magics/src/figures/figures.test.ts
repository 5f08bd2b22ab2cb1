import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { figureBundle, plotlyJson, thinSeries, type LineFigure } from './figure.js';
import { niceTicks, renderSvg } from './svg.js';
import { LiveOutput } from './live.js';

const figure: LineFigure = {
  title: 'loss <&> accuracy',
  xTitle: 'step',
  yTitle: 'loss',
  y2Title: 'accuracy',
  y2Range: [0, 1],
  series: [
    { name: 'train loss', x: [1, 2, 3, 4, 5], y: [2, 1.5, NaN, 0.8, 0.7] },
    { name: 'test accuracy', x: [0, 5], y: [0.1, 0.9], axis: 'y2', markers: true },
  ],
};

describe('figures', () => {
  it('Plotly JSON: one scatter trace per series, NaN as null (a gap), the right axis when used', () => {
    const { data, layout } = plotlyJson(figure) as { data: Array<Record<string, unknown>>; layout: Record<string, any> };
    assert.equal(data.length, 2);
    assert.deepEqual(data[0].y, [2, 1.5, null, 0.8, 0.7]);
    assert.equal(data[1].yaxis, 'y2');
    assert.equal(data[1].mode, 'lines+markers');
    assert.deepEqual(layout.yaxis2.range, [0, 1]);
    assert.equal(layout.yaxis2.overlaying, 'y');
    assert.equal(JSON.parse(JSON.stringify(plotlyJson(figure))).data[0].y[2], null, 'survives JSON');
  });

  it('SVG: escaped text, a polyline per unbroken run of points, markers for marked series', () => {
    const svg = renderSvg(figure);
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(svg.endsWith('</svg>'));
    assert.match(svg, /loss &lt;&amp;&gt; accuracy/);
    assert.doesNotMatch(svg, /NaN/);
    const polylines = svg.match(/<polyline /g) ?? [];
    assert.equal(polylines.length, 3, 'train loss splits at the NaN into two lines; accuracy is one');
    assert.equal((svg.match(/<circle /g) ?? []).length, 2);
    // Every point lies inside the plot area.
    for (const [, x, y] of svg.matchAll(/(\d+\.\d),(\d+\.\d)/g)) {
      assert.ok(Number(x) >= 0 && Number(x) <= 640 && Number(y) >= 0 && Number(y) <= 360, `${x},${y}`);
    }
  });

  it('the bundle carries Plotly, the SVG fallback and text', () => {
    const bundle = figureBundle(figure);
    assert.deepEqual(Object.keys(bundle).sort(), ['application/vnd.plotly.v1+json', 'image/svg+xml', 'text/plain']);
  });

  it('thinSeries keeps at most max points, evenly, with the first and the last', () => {
    const x = Array.from({ length: 1000 }, (_, i) => i + 1);
    const thin = thinSeries({ name: 's', x, y: x.map((v) => v * 2) }, 250);
    assert.equal(thin.x.length, 250);
    assert.equal(thin.x[0], 1);
    assert.equal(thin.x.at(-1), 1000);
    assert.deepEqual(thin.y, thin.x.map((v) => v * 2));
    const short = { name: 's', x: [1, 2], y: [3, 4] };
    assert.equal(thinSeries(short, 250), short);
  });

  it('niceTicks gives round steps covering the range', () => {
    assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(0, 47), [0, 10, 20, 30, 40]);
    assert.ok(niceTicks(3, 3).length > 0);
    assert.deepEqual(niceTicks(NaN, 1), []);
  });
});

describe('LiveOutput', () => {
  it('shows at once, then sends at most `rate` updates a second with the latest content, and finishes with the last', () => {
    const sent: Array<{ content: string; update: boolean; id?: string }> = [];
    let clock = 0;
    const ctx = {
      display(value: unknown, options?: { displayId?: string; update?: boolean }) {
        const bundle = (value as Record<symbol, () => { data: Record<string, unknown> }>)[Symbol.for('jupyter.mimebundle')]();
        sent.push({ content: String(bundle.data['text/plain']), update: options?.update ?? false, id: options?.displayId });
        return 'display-1';
      },
    };
    const live = new LiveOutput(ctx, 2, () => clock);
    for (let step = 0; step <= 100; step++) {
      clock = step * 20; // 50 offers a second for 2 s
      live.offer(() => ({ 'text/plain': `step ${step}` }));
    }
    live.finish();
    assert.equal(sent[0].update, false);
    assert.ok(sent.slice(1).every((m) => m.update && m.id === 'display-1'));
    assert.ok(sent.length <= 2 * 2 + 2, `${sent.length} messages for 2 s at 2/s`);
    assert.equal(sent.at(-1)!.content, 'step 100');
  });
});
