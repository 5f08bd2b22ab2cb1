/** Small tables the line magics print: as aligned text and as HTML. */

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** A table: a header row and body rows of strings. */
export interface Table {
  header: string[];
  rows: string[][];
}

/** Aligned plain text (first column left, the others right when they look numeric). */
export function tableText(table: Table): string {
  const widths = table.header.map((h, i) => Math.max(h.length, ...table.rows.map((r) => (r[i] ?? '').length)));
  const numeric = table.header.map((_, i) => i > 0 && table.rows.every((r) => /^[-+0-9.,e%∞]*$/i.test(r[i] ?? '')));
  const line = (cells: string[]): string => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(table.header), line(widths.map((w) => '-'.repeat(w))), ...table.rows.map(line)].join('\n');
}

/** An HTML table. */
export function tableHtml(table: Table): string {
  const head = `<thead><tr>${table.header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>`;
  const body = `<tbody>${table.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('')}</tbody>`;
  return `<table class="hyperlab-table">${head}${body}</table>`;
}

/** Both renderings as one bundle. */
export function tableBundle(table: Table, caption?: string): Record<string, unknown> {
  const text = tableText(table);
  const html = tableHtml(table);
  return { 'text/plain': caption ? `${caption}\n${text}` : text, 'text/html': caption ? `<div><b>${escapeHtml(caption)}</b></div>${html}` : html };
}
