/**
 * The output a run ends with: the run record itself (`application/vnd.hyperlab.run.v1+json`, what
 * `hyperlab verify` and the JupyterLab extension read), an HTML card for front ends without the
 * extension, and a `text/plain` summary.
 */
import { RUN_RECORD_MIME, type RunRecord } from '@hyperlab/core/runs';
import { stringify } from 'yaml';
import { PALETTE } from './figures/figure.js';

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** A metric value as people read it: integers whole, others to 4 significant digits. */
export function formatMetric(value: number | string): string {
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return Math.abs(value) >= 1e-3 && Math.abs(value) < 1e5 ? String(Number(value.toPrecision(4))) : value.toExponential(3);
}

/** A tiny inline SVG of a curve's values. */
export function sparkline(values: Array<number | string>, color = PALETTE[0], width = 120, height = 28): string {
  const all = values.map((v) => (typeof v === 'number' ? v : NaN));
  // About one point per two pixels is all a sparkline can show.
  const step = Math.max(1, Math.ceil(all.length / (width / 2)));
  const ys = all.filter((_, i) => i % step === 0 || i === all.length - 1);
  const finite = ys.filter(Number.isFinite);
  if (finite.length < 2) return '';
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const span = hi - lo || 1;
  const points = ys
    .map((v, i) => (Number.isFinite(v) ? `${((i / (ys.length - 1)) * (width - 2) + 1).toFixed(1)},${(height - 1 - ((v - lo) / span) * (height - 2)).toFixed(1)}` : ''))
    .filter(Boolean)
    .join(' ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><polyline fill="none" stroke="${color}" stroke-width="1.5" points="${points}"/></svg>`;
}

/** One-paragraph text summary of a record. */
export function recordSummary(record: RunRecord): string {
  const metrics = Object.entries(record.metrics)
    .map(([name, value]) => `${name}=${formatMetric(value)}`)
    .join(' ');
  return `Run ${record.name ?? record.id} · seed ${record.seed} · ${record.backend.name} · ${(record.timings.totalMs / 1000).toFixed(1)} s\n  ${metrics}\n  content hash ${record.contentHash.slice(0, 16)}…`;
}

/** The HTML card (no scripts; a `<details>` for the config and environment). */
export function runCardHtml(record: RunRecord): string {
  const metricRows = Object.entries(record.metrics)
    .map(([name, value]) => `<tr><th style="text-align:left;padding-right:1em">${escapeHtml(name)}</th><td style="text-align:right">${escapeHtml(formatMetric(value))}</td></tr>`)
    .join('');
  const curves = Object.entries(record.curves)
    .map(([name, curve], i) => {
      const svg = sparkline(curve.value, PALETTE[i % PALETTE.length]);
      return svg ? `<div style="display:inline-block;margin-right:1em"><div style="font-size:11px;color:#666">${escapeHtml(name)}</div>${svg}</div>` : '';
    })
    .join('');
  const data = record.data.map((d) => `<li>${escapeHtml(d.name)} — ${d.size.toLocaleString('en-US')} examples, <code>${d.fingerprint.slice(0, 12)}</code></li>`).join('');
  const packages = Object.entries(record.environment.packages)
    .map(([name, version]) => `${escapeHtml(name)} ${escapeHtml(version)}`)
    .join(', ');
  return [
    `<div class="hyperlab-run-card" style="border:1px solid #ccc;border-radius:6px;padding:8px 12px;max-width:720px;font-size:13px">`,
    `<div style="font-weight:bold;font-size:14px">${escapeHtml(record.name ?? record.id)}</div>`,
    `<div style="color:#666">seed ${escapeHtml(String(record.seed))} · backend ${escapeHtml(record.backend.name)} · ${(record.timings.totalMs / 1000).toFixed(1)} s · hash <code>${record.contentHash.slice(0, 12)}</code></div>`,
    `<table style="margin:6px 0">${metricRows}</table>`,
    curves ? `<div>${curves}</div>` : '',
    `<details><summary>config</summary><pre style="margin:4px 0">${escapeHtml(stringify(record.config))}</pre></details>`,
    `<details><summary>data and environment</summary><ul style="margin:4px 0">${data}</ul><div>node ${escapeHtml(record.environment.node)} · ${escapeHtml(record.environment.platform)}-${escapeHtml(record.environment.arch)} · ${escapeHtml(record.backend.reason)}</div><div style="color:#666">${packages}</div></details>`,
    `</div>`,
  ].join('');
}

/** The bundle a run ends with. */
export function runCardBundle(record: RunRecord): Record<string, unknown> {
  return { [RUN_RECORD_MIME]: record, 'text/html': runCardHtml(record), 'text/plain': recordSummary(record) };
}
