/**
 * The run card as HTML: the record's name, seed, backend, time and content hash; its metrics; a
 * sparkline per curve; and collapsible config, data and environment. Pure (no DOM), so it is
 * tested in Node and rendered by {@link RunCardRenderer}.
 */
import { stringify } from 'yaml';
import { experimentKind } from '../experiments/kind';
import { decodeNumber, recordName, type JsonNumber, type RunRecord } from '../records';
import { kindSummary } from './kind-summary';

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

/** HTML-escapes text. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** A metric as people read it: integers with separators, others to 4 significant digits. */
export function formatMetric(value: JsonNumber): string {
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return Math.abs(value) >= 1e-3 && Math.abs(value) < 1e5 ? String(Number(value.toPrecision(4))) : value.toExponential(3);
}

/** An inline SVG polyline of values (about one point per two pixels), or '' with < 2 finite values. */
export function sparkline(values: JsonNumber[], color: string, width = 140, height = 32): string {
  const all = values.map((v) => decodeNumber(v));
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
  return `<svg class="hl-sparkline" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><polyline fill="none" stroke="${color}" stroke-width="1.5" points="${points}"/></svg>`;
}

/** A short fingerprint of the environment: node, platform, and the package versions. */
export function environmentLine(record: RunRecord): string {
  const packages = Object.entries(record.environment?.packages ?? {})
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
  return `node ${record.environment?.node ?? '?'} · ${record.environment?.platform ?? '?'}-${record.environment?.arch ?? '?'}${packages ? ` · ${packages}` : ''}`;
}

/**
 * The card's HTML (no scripts). `.hl-run-card[data-kind]`; a continual run's body has an empty
 * `.hl-run-matrix` where {@link RunCardRenderer} draws the accuracy matrix.
 */
export function runCardHtml(record: RunRecord): string {
  const seconds = (record.timings?.totalMs ?? NaN) / 1000;
  const method = (record.config?.adapter as { method?: unknown } | undefined)?.method ?? record.config?.magic;
  const metrics = Object.entries(record.metrics)
    .map(([name, value]) => `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(formatMetric(value))}</td></tr>`)
    .join('');
  const curves = Object.entries(record.curves ?? {})
    .map(([name, curve], i) => {
      const svg = sparkline(curve.value, PALETTE[i % PALETTE.length]);
      const last = curve.value.length ? formatMetric(curve.value[curve.value.length - 1]) : '';
      return svg ? `<figure class="hl-curve"><figcaption>${escapeHtml(name)} <span>${escapeHtml(last)}</span></figcaption>${svg}</figure>` : '';
    })
    .join('');
  const data = (record.data ?? [])
    .map((d) => `<li>${escapeHtml(d.name)} — ${d.size.toLocaleString('en-US')} examples · <code title="${escapeHtml(d.fingerprint)}">${escapeHtml(d.fingerprint.slice(0, 12))}</code></li>`)
    .join('');
  const kind = experimentKind(record);
  const summaryLine = kindSummary(record);
  const hasMatrix = Object.keys(record.curves ?? {}).some((name) => /^matrix\/exp\d+$/.test(name));
  return [
    `<details class="hl-run-card" open data-kind="${kind}">`,
    `<summary><span class="hl-run-name">${escapeHtml(recordName(record))}</span>`,
    method ? ` <span class="hl-run-method">${escapeHtml(String(method))}</span>` : '',
    `<span class="hl-run-meta">seed ${escapeHtml(String(record.seed))} · ${escapeHtml(record.backend?.name ?? '?')} · ${Number.isFinite(seconds) ? `${seconds.toFixed(1)} s` : '?'} · <code title="${escapeHtml(record.contentHash)}">${escapeHtml(record.contentHash.slice(0, 12))}</code></span></summary>`,
    summaryLine.length ? `<div class="hl-run-kind">${summaryLine.map((part) => `<span>${escapeHtml(part)}</span>`).join(' · ')}</div>` : '',
    `<div class="hl-run-body">`,
    `<table class="hl-run-metrics">${metrics}</table>`,
    hasMatrix ? `<figure class="hl-run-matrix"><figcaption>accuracy matrix R (rows: trained up to, columns: tested on)</figcaption></figure>` : '',
    curves ? `<div class="hl-run-curves">${curves}</div>` : '',
    `</div>`,
    `<details class="hl-run-section"><summary>config</summary><pre>${escapeHtml(stringify(record.config, { sortMapEntries: true }))}</pre></details>`,
    `<details class="hl-run-section"><summary>data and environment</summary><ul>${data}</ul><div>${escapeHtml(environmentLine(record))}</div><div>${escapeHtml(record.backend?.reason ?? '')}</div></details>`,
    `</details>`,
  ].join('');
}
