import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { barBundle, barPlotlyJson, renderBarSvg, type BarFigure } from './bars.js';

const figure: BarFigure = {
  title: 'ACC & BWT',
  yTitle: 'fraction',
  categories: ['ACC', 'BWT'],
  series: [
    { name: 'naive', values: [0.2, -0.9] },
    { name: 'replay', values: [0.8, NaN] },
  ],
};

describe('bar figures', () => {
  it('Plotly JSON: a bar trace per series over the categories, grouped; NaN as null', () => {
    const { data, layout } = barPlotlyJson(figure) as { data: Array<Record<string, any>>; layout: Record<string, any> };
    assert.deepEqual(data.map((d) => d.name), ['naive', 'replay']);
    assert.deepEqual(data[0].x, ['ACC', 'BWT']);
    assert.deepEqual(data[1].y, [0.8, null]);
    assert.equal(layout.barmode, 'group');
  });

  it('SVG: a bar per finite value, negative bars below the zero line, escaped title', () => {
    const svg = renderBarSvg(figure);
    const bars = [...svg.matchAll(/<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)" fill="[^"]+"><title>([^<]+)</g)];
    assert.equal(bars.length, 3, 'no bar for NaN');
    const zero = Number(/<line x1="60" x2="620" y1="([\d.]+)" y2="[\d.]+" stroke="#444"/.exec(svg)![1]);
    const negative = bars.find((b) => b[3].includes('BWT'))!;
    assert.ok(Math.abs(Number(negative[1]) - zero) < 0.2, 'a negative bar starts at zero and goes down');
    const positive = bars.find((b) => b[3].includes('replay ACC'))!;
    assert.ok(Math.abs(Number(positive[1]) + Number(positive[2]) - zero) < 0.2, 'a positive bar ends at zero');
    assert.ok(svg.includes('ACC &amp; BWT'));
    assert.match(String(barBundle(figure)['text/plain']), /naive, replay/);
  });
});
