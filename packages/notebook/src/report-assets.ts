/** The report's stylesheet and the script that draws its Plotly figures. */

/** The report's CSS: readable on screen and in print, no web fonts. */
export const REPORT_CSS = `
:root { --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --code: #f6f8fa; --accent: #0969da; --err: #cf222e; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 980px; padding: 24px; color: var(--fg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { margin: 0 0 4px; font-size: 28px; }
h2 { font-size: 20px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h4 { margin: 14px 0 6px; font-size: 14px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.muted { color: var(--muted); }
pre, code { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { margin: 0; padding: 8px 10px; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
.cell { margin: 14px 0; }
.cell.code .source { background: var(--code); border: 1px solid var(--line); border-radius: 6px; }
.cell.raw pre { background: #fffbe6; border: 1px dashed var(--line); }
.prompt { font: 12px ui-monospace, monospace; color: var(--muted); margin: 2px 0; }
.outputs { border-left: 3px solid var(--line); margin: 6px 0 0; padding-left: 10px; }
.output { margin: 6px 0; }
.stream.stderr { background: #fff5f5; }
pre.error { background: #ffebe9; color: var(--err); border-radius: 6px; }
img { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 6px 0; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: var(--code); }
.num { font-variant-numeric: tabular-nums; }
table.runs td:nth-child(n+5) { text-align: right; }
details.run { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; background: #fbfcfd; }
details.run > summary { cursor: pointer; padding: 6px 10px; }
details.run[open] > summary { border-bottom: 1px solid var(--line); }
.run-title { font-weight: 600; }
.run-body { padding: 4px 12px 12px; }
.run-body pre.config { background: var(--code); border-radius: 6px; }
.plot { width: 100%; min-height: 300px; }
.link { color: var(--accent); }
.url, .missing-image { color: var(--muted); font-size: 13px; }
@media print { details.run { break-inside: avoid; } body { max-width: none; } }
`;

/**
 * Draws every `.plot` element from the JSON in the `<script type="application/json">` it names;
 * figures inside a closed run card are drawn when the card is first opened (Plotly cannot size a
 * hidden element). No network access: `config` keeps plotly's logo link and "edit" link off.
 */
export const REPORT_SCRIPT = `
(function () {
  function draw(el) {
    if (el.dataset.drawn) return;
    el.dataset.drawn = '1';
    var fig = JSON.parse(document.getElementById(el.dataset.figure).textContent);
    var config = Object.assign({ responsive: true, displaylogo: false, showLink: false, showEditInChartStudio: false }, fig.config || {});
    Plotly.newPlot(el, fig.data || [], fig.layout || {}, config);
  }
  function visible(el) { return !el.closest('details:not([open])'); }
  document.querySelectorAll('.plot').forEach(function (el) { if (visible(el)) draw(el); });
  document.querySelectorAll('details').forEach(function (d) {
    d.addEventListener('toggle', function () {
      if (d.open) d.querySelectorAll('.plot').forEach(function (el) { if (visible(el)) draw(el); });
    });
  });
})();
`;
