import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { heatmapBundle, heatmapPlotlyJson, renderHeatmapSvg, viridis, type HeatmapFigure } from './heatmap.js';

const figure: HeatmapFigure = {
  title: 'R <after> & before',
  xTitle: 'evaluated on',
  yTitle: 'after training',
  x: ['exp 0', 'exp 1', 'exp 2'],
  y: ['exp 0', 'exp 1', 'exp 2'],
  z: [
    [0.99, 0.1, 0.05],
    [0.5, 0.98, 0.2],
    [null, null, null],
  ],
};

describe('heatmap figures', () => {
  it('Plotly JSON: one heatmap trace, rows top to bottom, values written in the cells, unfilled rows blank', () => {
    const { data, layout } = heatmapPlotlyJson(figure) as { data: Array<Record<string, any>>; layout: Record<string, any> };
    assert.equal(data.length, 1);
    assert.equal(data[0].type, 'heatmap');
    assert.deepEqual(data[0].z, figure.z);
    assert.deepEqual(data[0].text[0], ['99.0', '10.0', '5.0']);
    assert.deepEqual(data[0].text[2], ['', '', '']);
    assert.equal(data[0].zmin, 0);
    assert.equal(data[0].zmax, 1);
    assert.equal(layout.yaxis.autorange, 'reversed', 'the first experience is the top row');
  });

  it('SVG: a rect per cell, coloured by value, labels escaped', () => {
    const svg = renderHeatmapSvg(figure);
    assert.equal(svg.match(/<rect /g)?.length, 9);
    assert.ok(svg.includes(`fill="${viridis(0.99)}"`));
    assert.ok(svg.includes('#f4f4f4'), 'unfilled cells drawn empty');
    assert.ok(svg.includes('R &lt;after&gt; &amp; before'));
    assert.ok(!svg.includes('<after>'));
    assert.ok(svg.includes('>98.0<'));
  });

  it('viridis: the scale ends, clamped outside [0, 1]', () => {
    assert.equal(viridis(0), 'rgb(68,1,84)');
    assert.equal(viridis(1), 'rgb(253,231,37)');
    assert.equal(viridis(-3), viridis(0));
    assert.equal(viridis(7), viridis(1));
    assert.notEqual(viridis(0.3), viridis(0.7));
  });

  it('bundle: Plotly, SVG and a text table', () => {
    const bundle = heatmapBundle(figure);
    assert.deepEqual(Object.keys(bundle).sort(), ['application/vnd.plotly.v1+json', 'image/svg+xml', 'text/plain']);
    const text = String(bundle['text/plain']);
    assert.match(text, /exp 1 +50\.0 +98\.0 +20\.0/);
    assert.match(text, /exp 2 +· +· +·/);
  });
});
