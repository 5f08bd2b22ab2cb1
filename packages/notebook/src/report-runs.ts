/**
 * Run records in the HTML report: a summary table of every run (at the top) and a collapsible
 * card per record where it was displayed (name, metrics, config, seed, backend, data
 * fingerprints, curves, timings, environment, content hash). Records are shown as stored, so a
 * partial or hand-edited record still renders.
 */
import type { FoundRunRecord } from './nbformat.js';
import { escapeHtml, scriptJson } from './html.js';
import { formatNumber } from './text-table.js';
import { recordName } from './verify.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Json => (isObject(v) ? v : {});
const text = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : typeof v === 'number' ? formatNumber(v) : JSON.stringify(v));
const e = (v: unknown): string => escapeHtml(text(v));

/** The anchor of the n-th record's card. */
export const runAnchor = (n: number): string => `run-${n}`;

function keyValueTable(rows: Array<[string, string]>, className = 'kv'): string {
  return `<table class="${className}"><tbody>${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${v}</td></tr>`).join('')}</tbody></table>`;
}

/** The summary table of all runs, linking to each card. */
export function runsSummary(found: FoundRunRecord[]): string {
  if (found.length === 0) return '<section class="runs-summary"><h2>Runs</h2><p class="empty">No run records in this notebook.</p></section>';
  const metricNames = [...new Set(found.flatMap((f) => Object.keys(obj(obj(f.record).metrics))))];
  const head = ['run', 'cell', 'seed', 'backend', ...metricNames, 'content hash'].map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = found
    .map((f, n) => {
      const r = obj(f.record);
      const metrics = obj(r.metrics);
      const cells = [
        `<a href="#${runAnchor(n)}">${escapeHtml(recordName(r) || `run ${n + 1}`)}</a>`,
        String(f.cellIndex),
        e(r.seed),
        e(obj(r.backend).name ?? r.backend),
        ...metricNames.map((m) => `<span class="num">${e(metrics[m])}</span>`),
        `<code>${e(typeof r.contentHash === 'string' ? r.contentHash.slice(0, 12) : '')}</code>`,
      ];
      return `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
    })
    .join('');
  return `<section class="runs-summary"><h2>Runs</h2><table class="runs"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></section>`;
}

/** A Plotly figure of a record's curves (one trace per curve), or undefined when it has none. */
export function curvesFigure(record: unknown): { data: unknown[]; layout: Json } | undefined {
  const curves = obj(obj(record).curves);
  const data = Object.entries(curves)
    .filter(([, c]) => isObject(c) && Array.isArray(c.step) && Array.isArray(c.value))
    .map(([name, c]) => ({ type: 'scatter', mode: 'lines', name, x: (c as Json).step, y: ((c as Json).value as unknown[]).map((v) => (typeof v === 'number' ? v : null)) }));
  if (data.length === 0) return undefined;
  return { data, layout: { height: 280, margin: { l: 50, r: 20, t: 20, b: 40 }, xaxis: { title: { text: 'step' } } } };
}

/**
 * The card of the n-th record. `plot(figure)` returns the HTML of an interactive figure (the
 * report draws it when the card is opened).
 */
export function runCard(found: FoundRunRecord, n: number, plot: (figure: { data: unknown[]; layout: Json }) => string): string {
  const r = obj(found.record);
  const backend = obj(r.backend);
  const metrics = Object.entries(obj(r.metrics));
  const summaryMetrics = metrics.slice(0, 4).map(([k, v]) => `${escapeHtml(k)}=${e(v)}`).join(' ');
  const facts: Array<[string, string]> = [
    ['name', e(r.name)],
    ['id', `<code>${e(r.id)}</code>`],
    ['created', e(r.createdAt)],
    ['seed', e(r.seed)],
    ['backend', `${e(backend.name ?? r.backend)}${backend.reason ? ` <span class="muted">(${e(backend.reason)})</span>` : ''}`],
    ['content hash', `<code>${e(r.contentHash)}</code>`],
    ['schema', e(r.schema)],
  ];
  const parts = [`<h4>Run</h4>${keyValueTable(facts.filter(([, v]) => v !== '' && v !== '<code></code>'))}`];
  if (metrics.length) parts.push(`<h4>Metrics</h4>${keyValueTable(metrics.map(([k, v]) => [k, `<span class="num">${e(v)}</span>`]), 'kv metrics')}`);
  if (r.config !== undefined) parts.push(`<h4>Config</h4><pre class="config">${escapeHtml(JSON.stringify(r.config, null, 2))}</pre>`);
  const data = Array.isArray(r.data) ? r.data.map(obj) : [];
  if (data.length) {
    const rows = data.map((d) => `<tr><td>${e(d.name)}</td><td class="num">${e(d.size)}</td><td><code>${e(d.fingerprint)}</code></td></tr>`).join('');
    parts.push(`<h4>Data</h4><table class="data"><thead><tr><th>name</th><th>size</th><th>fingerprint (SHA-256)</th></tr></thead><tbody>${rows}</tbody></table>`);
  }
  const figure = curvesFigure(r);
  if (figure) parts.push(`<h4>Curves</h4>${plot(figure)}`);
  const timings = Object.entries(obj(r.timings));
  if (timings.length) parts.push(`<h4>Timings</h4>${keyValueTable(timings.map(([k, v]) => [k, `<span class="num">${e(v)}</span>`]))}`);
  const env = obj(r.environment);
  if (Object.keys(env).length) {
    const rows: Array<[string, string]> = Object.entries(env).filter(([k]) => k !== 'packages').map(([k, v]) => [k, e(v)]);
    for (const [name, version] of Object.entries(obj(env.packages))) rows.push([name, e(version)]);
    parts.push(`<h4>Environment</h4>${keyValueTable(rows)}`);
  }
  const title = escapeHtml(recordName(r) || `run ${n + 1}`);
  return (
    `<details class="run" id="${runAnchor(n)}"><summary><span class="run-title">Run: ${title}</span> <span class="muted">${summaryMetrics}</span></summary>` +
    `<div class="run-body">${parts.join('')}</div>` +
    `<script type="application/json" class="run-record">${scriptJson(found.record)}</script></details>`
  );
}
