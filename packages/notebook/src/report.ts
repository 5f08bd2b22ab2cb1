/**
 * `hyperlab report`: one self-contained HTML file of a notebook, readable offline.
 *
 * - title (`metadata.title`, else the first `#` heading, else the file name), then a summary
 *   table of every run record, then the cells in order;
 * - markdown rendered with `marked`; raw HTML inside markdown is shown as text (escaped), images
 *   are embedded as `data:` URIs (cell attachments, files beside the notebook), and links or
 *   images that point at the network are written out as text, so the page references nothing
 *   outside itself;
 * - code cells: source in `<pre>`, then outputs: run records as collapsible cards
 *   (`report-runs.ts`), Plotly figures drawn interactively (with their image fallback in
 *   `<noscript>`), `text/html` as is, images as `data:` URIs, streams and errors as escaped text
 *   (ANSI codes removed); raw cells escaped in `<pre>`;
 * - plotly.js-dist-min's minified bundle inlined once, only when there is something to draw.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import type { Marked, RendererObject } from 'marked' with { 'resolution-mode': 'import' };
import { cellSource, runRecords, writeFileAtomic, RUN_RECORD_MIME, type Cell, type MimeBundle, type Notebook, type Output } from './nbformat.js';
import { dataUri, escapeHtml, scriptJson } from './html.js';
import { REPORT_CSS, REPORT_SCRIPT } from './report-assets.js';
import { runCard, runsSummary } from './report-runs.js';

/** Options of {@link renderReport}. */
export interface ReportOptions {
  /** The notebook's path: names it, and local images in markdown are read relative to it. */
  notebookPath: string;
  /** Overrides the title. */
  title?: string;
}

const PLOTLY_MIME = 'application/vnd.plotly.v1+json';
const IMAGE_TYPES: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.svg': 'image/svg+xml', '.webp': 'image/webp' };
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const multiline = (v: unknown): string => (Array.isArray(v) ? v.join('') : typeof v === 'string' ? v : '');
const isRemote = (url: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(url) && !/^data:/i.test(url);

/** The report's title: `metadata.title`, the first markdown `#` heading, else the file name. */
export function reportTitle(nb: Notebook, notebookPath: string): string {
  if (typeof nb.metadata.title === 'string' && nb.metadata.title.trim()) return nb.metadata.title.trim();
  for (const cell of nb.cells) {
    if (cell.cell_type !== 'markdown') continue;
    const m = /^#\s+(.+?)\s*#*\s*$/m.exec(cellSource(cell));
    if (m) return m[1];
  }
  return path.basename(notebookPath).replace(/\.ipynb$/i, '');
}

/** Builds one report: keeps the figure counter and the markdown renderer. */
class ReportBuilder {
  private figures = 0;
  private recordIndex = 0;

  private readonly marked: Marked;

  constructor(
    MarkedClass: typeof Marked,
    private readonly notebookDir: string,
  ) {
    this.marked = new MarkedClass({ gfm: true });
    this.marked.use({ renderer: this.rendererOverrides() });
  }

  get hasFigures(): boolean {
    return this.figures > 0;
  }

  /** An interactive figure (drawn by REPORT_SCRIPT) with an optional fallback image for no-JS readers. */
  plot(figure: unknown, fallback = ''): string {
    const id = `figure-${++this.figures}`;
    return `<div class="plot" data-figure="${id}"></div><script type="application/json" id="${id}">${scriptJson(figure)}</script>${fallback ? `<noscript>${fallback}</noscript>` : ''}`;
  }

  /** Markdown to HTML; `attachments` resolve `attachment:NAME` images. */
  markdown(source: string, attachments: unknown = {}): string {
    this.attachments = attachments;
    return this.marked.parse(source, { async: false }) as string;
  }

  private attachments: unknown = {};

  /** A `data:` URI for a markdown image that lives in the notebook or beside it; undefined for remote or missing ones. */
  private localImage(href: string): string | undefined {
    if (href.startsWith('attachment:')) {
      const bundle = isObject(this.attachments) ? this.attachments[href.slice('attachment:'.length)] : undefined;
      if (!isObject(bundle)) return undefined;
      const mime = Object.keys(bundle).find((m) => m.startsWith('image/'));
      if (!mime) return undefined;
      return mime === 'image/svg+xml' ? dataUri(mime, Buffer.from(multiline(bundle[mime])).toString('base64')) : dataUri(mime, multiline(bundle[mime]));
    }
    if (/^data:/i.test(href)) return href;
    if (isRemote(href)) return undefined;
    const file = path.resolve(this.notebookDir, decodeURIComponent(href.split(/[?#]/)[0]));
    const mime = IMAGE_TYPES[path.extname(file).toLowerCase()];
    try {
      return mime ? dataUri(mime, fs.readFileSync(file).toString('base64')) : undefined;
    } catch {
      return undefined;
    }
  }

  /** marked's renderer overrides: raw HTML escaped, images embedded, links to elsewhere as text. */
  rendererOverrides(): RendererObject {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const builder = this;
    return {
      html({ text }) {
        return escapeHtml(text);
      },
      image({ href, text }) {
        const src = builder.localImage(href);
        return src ? `<img src="${escapeHtml(src)}" alt="${escapeHtml(text)}">` : `<span class="missing-image">[image: ${escapeHtml(text)} — ${escapeHtml(href)}]</span>`;
      },
      link({ href, tokens }) {
        const inner = this.parser.parseInline(tokens);
        if (href.startsWith('#')) return `<a href="${escapeHtml(href)}">${inner}</a>`;
        return `<span class="link">${inner}</span> <span class="url">(${escapeHtml(href)})</span>`;
      },
    };
  }

  /** One output bundle, by the richest MIME type this report can show. */
  private bundle(data: MimeBundle, metadata: Record<string, unknown>, record: () => string): string {
    if (RUN_RECORD_MIME in data) return record();
    const size = (mime: string): string => {
      const m = isObject(metadata[mime]) ? (metadata[mime] as Record<string, unknown>) : {};
      return ['width', 'height'].filter((k) => typeof m[k] === 'number').map((k) => ` ${k}="${m[k] as number}"`).join('');
    };
    const image = (): string => {
      if (typeof data['image/svg+xml'] === 'string' || Array.isArray(data['image/svg+xml'])) {
        return `<img src="${dataUri('image/svg+xml', Buffer.from(multiline(data['image/svg+xml'])).toString('base64'))}"${size('image/svg+xml')} alt="figure">`;
      }
      for (const mime of ['image/png', 'image/jpeg', 'image/gif', 'image/webp']) {
        if (mime in data) return `<img src="${dataUri(mime, multiline(data[mime]))}"${size(mime)} alt="figure">`;
      }
      return '';
    };
    if (isObject(data[PLOTLY_MIME])) return this.plot(data[PLOTLY_MIME], image());
    if ('text/html' in data) return `<div class="html-output">${multiline(data['text/html'])}</div>`;
    const img = image();
    if (img) return img;
    if ('text/markdown' in data) return `<div class="markdown">${this.markdown(multiline(data['text/markdown']))}</div>`;
    if ('text/latex' in data) return `<pre class="latex">${escapeHtml(multiline(data['text/latex']))}</pre>`;
    if ('application/json' in data) return `<pre class="json">${escapeHtml(JSON.stringify(data['application/json'], null, 2))}</pre>`;
    if ('text/plain' in data) return `<pre class="text">${escapeHtml(stripVTControlCharacters(multiline(data['text/plain'])))}</pre>`;
    return `<p class="muted">(output of type ${escapeHtml(Object.keys(data).join(', ') || 'none')} not shown)</p>`;
  }

  output(o: Output, cellIndex: number): string {
    switch (o.output_type) {
      case 'stream':
        return `<pre class="stream ${o.name}">${escapeHtml(stripVTControlCharacters(multiline(o.text)))}</pre>`;
      case 'error': {
        const tb = o.traceback.length ? o.traceback.join('\n') : `${o.ename}: ${o.evalue}`;
        return `<pre class="error">${escapeHtml(stripVTControlCharacters(tb))}</pre>`;
      }
      case 'display_data':
      case 'execute_result': {
        const record = () => {
          const n = this.recordIndex++;
          let value = o.data[RUN_RECORD_MIME];
          if (typeof value === 'string') {
            try { value = JSON.parse(value); } catch { /* shown as stored */ }
          }
          return runCard({ cellIndex, outputIndex: 0, record: value }, n, (figure) => this.plot(figure));
        };
        const body = this.bundle(o.data, o.metadata, record);
        const prompt = o.output_type === 'execute_result' ? `<div class="prompt out">Out[${o.execution_count ?? ' '}]:</div>` : '';
        return `<div class="output">${prompt}${body}</div>`;
      }
    }
  }

  cell(cell: Cell, index: number): string {
    const source = cellSource(cell);
    switch (cell.cell_type) {
      case 'markdown':
        return `<section class="cell markdown" id="cell-${index}">${this.markdown(source, cell.attachments)}</section>`;
      case 'raw':
        return `<section class="cell raw" id="cell-${index}"><pre>${escapeHtml(source)}</pre></section>`;
      case 'code': {
        const outputs = cell.outputs.map((o) => this.output(o, index)).join('');
        return (
          `<section class="cell code" id="cell-${index}"><div class="prompt in">In [${cell.execution_count ?? ' '}]:</div>` +
          `<pre class="source"><code>${escapeHtml(source)}</code></pre>${outputs ? `<div class="outputs">${outputs}</div>` : ''}</section>`
        );
      }
    }
  }
}

/** plotly.js-dist-min's minified bundle, safe to inline in a `<script>` element. */
function plotlyBundle(): string {
  const file = require.resolve('plotly.js-dist-min');
  return fs.readFileSync(file, 'utf8').replace(/<\/script/gi, '<\\/script');
}

/** The report's HTML (see the module documentation). */
export async function renderReport(nb: Notebook, options: ReportOptions): Promise<string> {
  const { Marked } = await import('marked');
  const builder = new ReportBuilder(Marked, path.dirname(path.resolve(options.notebookPath)));
  const title = options.title ?? reportTitle(nb, options.notebookPath);
  const cells = nb.cells.map((cell, i) => builder.cell(cell, i)).join('\n');
  const summary = runsSummary(runRecords(nb));
  const kernel = isObject(nb.metadata.kernelspec) && typeof nb.metadata.kernelspec.display_name === 'string' ? nb.metadata.kernelspec.display_name : '';
  const plotly = builder.hasFigures ? `<script>/* plotly.js-dist-min (MIT licence), inlined */\n${plotlyBundle()}\n</script>\n` : '';
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="generator" content="hyperlab report">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${REPORT_CSS}</style>`,
    `${plotly}</head>`,
    '<body>',
    `<header><h1>${escapeHtml(title)}</h1><p class="muted">${escapeHtml(path.basename(options.notebookPath))}${kernel ? ` · ${escapeHtml(kernel)}` : ''}</p></header>`,
    summary,
    `<main>\n${cells}\n</main>`,
    builder.hasFigures ? `<script>${REPORT_SCRIPT}</script>` : '',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** Renders the report of `nb` and writes it to `file` atomically. */
export async function writeReport(nb: Notebook, file: string, options: ReportOptions): Promise<void> {
  writeFileAtomic(file, await renderReport(nb, options));
}
