/**
 * The overlay chart's figure, with no DOM or plotly: one line per selected run for one curve.
 */
import { decodeNumber } from '../records';
import type { RunRow } from './table-model';

/** A plotly scatter trace. */
export interface LineTrace {
  type: 'scatter';
  mode: 'lines' | 'lines+markers';
  name: string;
  x: number[];
  /** Values; non-finite ones become gaps (null). */
  y: Array<number | null>;
}

/** The overlay figure. */
export interface OverlayFigure {
  data: LineTrace[];
  /** Selected runs that have no such curve. */
  without: string[];
}

/** Runs with few points get markers, so a 3-point test curve is visible. */
const MARKER_LIMIT = 30;

/** One trace per row that has the curve, in the rows' order. */
export function overlayFigure(rows: RunRow[], curve: string): OverlayFigure {
  const data: LineTrace[] = [];
  const without: string[] = [];
  for (const row of rows) {
    const c = row.record.curves?.[curve];
    if (!c || !Array.isArray(c.step) || c.step.length === 0) {
      without.push(row.name);
      continue;
    }
    const y = c.value.map((v) => {
      const n = decodeNumber(v);
      return Number.isFinite(n) ? n : null;
    });
    data.push({ type: 'scatter', mode: c.step.length <= MARKER_LIMIT ? 'lines+markers' : 'lines', name: row.name, x: [...c.step], y });
  }
  return { data, without };
}
