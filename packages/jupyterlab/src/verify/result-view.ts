/**
 * The result of "Verify reproducibility": a summary line, the error that stopped the re-run (if
 * any), and a table run / kind / status / detail, a drifted row listing where its config, curves or
 * outcome differ (a sweep's trials) under its detail. DOM hooks for tests:
 * `.hl-verify-result[data-ok]`, `tr.hl-verify-row[data-run][data-status]` and
 * `.hl-verify-diffs li[data-path]`.
 */
import { Widget } from '@lumino/widgets';
import { summary, type Tolerances, type Verification, type VerifyRow } from './compare';
import { shortJson } from './value-diffs';

/** How many differences a row lists (the rest are counted). */
const MAX_LISTED = 40;
import type { CellError } from './fresh-run';

/** What the view shows. */
export interface VerifyReport {
  /** The notebook's name. */
  notebook: string;
  /** The kernelspec the re-run used. */
  kernelName: string;
  verification: Verification;
  /** The error that stopped the re-run, if any. */
  error?: CellError;
  /** How many code cells ran, of how many. */
  executed: number;
  cells: number;
  tolerances: Tolerances;
  /** Wall time of the re-run, ms. */
  elapsedMs: number;
}

/** Whether the notebook is verified: every record matched and the re-run raised no error. */
export function reportOk(report: VerifyReport): boolean {
  return report.verification.ok && !report.error;
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A verify result, for a main-area widget. */
export class VerifyResultView extends Widget {
  constructor(report: VerifyReport) {
    super();
    this.addClass('hl-verify-result');
    const ok = reportOk(report);
    this.node.dataset.ok = String(ok);
    const { verification: v, error } = report;

    this.node.appendChild(element('h2', 'hl-verify-title', `${ok ? '✓' : '✗'} ${report.notebook}`));
    this.node.appendChild(element('p', 'hl-verify-summary', error && v.ok ? `Not reproduced: the re-run raised an error (${v.matched} of ${v.rows.length} records matched).` : summary(v)));
    if (error) {
      const where = `The re-run stopped at cell ${error.cellIndex + 1}: ${error.ename}${error.evalue ? `: ${error.evalue}` : ''}`;
      const node = element('p', 'hl-verify-error', where);
      node.dataset.cell = String(error.cellIndex);
      this.node.appendChild(node);
    }
    const seconds = (report.elapsedMs / 1000).toFixed(1);
    const meta = `Fresh "${report.kernelName}" kernel: ${report.executed} of ${report.cells} code cells in ${seconds} s · rtol ${report.tolerances.rtol} · atol ${report.tolerances.atol}`;
    this.node.appendChild(element('p', 'hl-verify-meta', meta));

    const table = element('table', 'hl-verify-table');
    const head = table.createTHead().insertRow();
    for (const label of ['run', 'kind', 'status', 'detail']) head.appendChild(element('th', '', label));
    const body = table.createTBody();
    for (const row of v.rows) {
      const tr = body.insertRow();
      tr.className = 'hl-verify-row';
      tr.dataset.run = row.run;
      tr.dataset.status = row.status;
      tr.dataset.cell = String(row.cellIndex);
      tr.dataset.kind = row.kind;
      if (row.match) tr.dataset.match = row.match;
      const run = element('td', 'hl-verify-run', row.run);
      run.title = `cell ${row.cellIndex + 1}`;
      tr.appendChild(run);
      tr.appendChild(element('td', 'hl-verify-kind', row.kind));
      tr.appendChild(element('td', `hl-verify-status hl-status-${row.status}`, row.match === 'tolerance' ? 'matched (within tolerance)' : row.status));
      const detail = element('td', 'hl-verify-detail', row.detail);
      if (row.diffs.length) detail.appendChild(diffList(row));
      tr.appendChild(detail);
    }
    this.node.appendChild(table);
  }
}

/** The differences of a drifted row, collapsed: one line per JSON Pointer. */
function diffList(row: VerifyRow): HTMLElement {
  const details = element('details', 'hl-verify-diffs');
  const n = row.diffs.length;
  details.appendChild(element('summary', '', `${n} difference${n === 1 ? '' : 's'} in config, curves or outcome`));
  const list = element('ul', '');
  for (const diff of row.diffs.slice(0, MAX_LISTED)) {
    const item = element('li', '', `${diff.path}: ${shortJson(diff.stored)} → ${shortJson(diff.fresh)}`);
    item.dataset.path = diff.path;
    list.appendChild(item);
  }
  if (n > MAX_LISTED) list.appendChild(element('li', 'hl-verify-more', `… and ${n - MAX_LISTED} more`));
  details.appendChild(list);
  return details;
}
