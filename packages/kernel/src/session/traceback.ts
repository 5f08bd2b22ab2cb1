/**
 * Tracebacks in the cell's own coordinates. The executor's stack positions point into compiled
 * scripts named `Cell[n]`; each is mapped back through its TypeScript source map, kernel-internal
 * frames are dropped, and the failing line is shown with its neighbours, as IPython does.
 */
import { TraceMap, originalPositionFor } from '@jridgewell/trace-mapping';

interface CellSource {
  map: TraceMap;
  lineOneOffset: number;
  /** Lines of the cell as the user wrote it. */
  lines: string[];
  /** Added to mapped lines (a cell magic's body starts below the magic line). */
  lineOffset: number;
  /** How the cell is called in tracebacks, e.g. `Cell In[3]`. */
  label: string;
}

const RED = '\x1b[0;31m';
const GREEN = '\x1b[0;32m';
const CYAN = '\x1b[0;36m';
const BOLD_RED = '\x1b[1;31m';
const RESET = '\x1b[0m';

/** A position in a cell. */
export interface CellPosition {
  filename: string;
  label: string;
  line: number;
  column: number;
}

/** Keeps the source maps of every compiled cell and rewrites stacks with them. */
export class TracebackMapper {
  private readonly cells = new Map<string, CellSource>();

  /** Remembers a compiled cell's map. */
  register(filename: string, sourceMap: string, lineOneOffset: number, source: string, lineOffset = 0, label = filename): void {
    this.cells.set(filename, { map: new TraceMap(sourceMap), lineOneOffset, lines: source.split('\n'), lineOffset, label });
  }

  /** Forgets every cell (after %reset there is no code left that could throw from them). */
  clear(): void {
    this.cells.clear();
  }

  /** Maps a runtime position in a compiled cell to the cell's line and column (1-based). */
  map(filename: string, line: number, column: number): CellPosition | undefined {
    const cell = this.cells.get(filename);
    if (!cell) return undefined;
    const generatedColumn = line === 1 ? Math.max(0, column - 1 - cell.lineOneOffset) : column - 1;
    const original = originalPositionFor(cell.map, { line, column: generatedColumn });
    if (original.line === null) return undefined;
    return { filename, label: cell.label, line: original.line + cell.lineOffset, column: original.column + 1 };
  }

  /**
   * Rewrites a V8 stack: frames in cells get cell coordinates, kernel and Node-internal frames are
   * dropped. Returns the frames and the innermost cell position.
   */
  frames(stack: string): { frames: string[]; innermost?: CellPosition } {
    const frames: string[] = [];
    let innermost: CellPosition | undefined;
    for (const raw of stack.split('\n')) {
      if (!/^\s+at /.test(raw)) continue;
      if (/node:internal|\/dist\/executor\/|\/dist\/magics\/|\(node:/.test(raw)) continue;
      const line = raw.replace(/(Cell\[[\d.]+\]):(\d+):(\d+)/g, (whole, filename: string, l: string, c: string) => {
        const position = this.map(filename, Number(l), Number(c));
        if (!position) return whole;
        innermost ??= position;
        return `${position.label}:${position.line}:${position.column}`;
      });
      frames.push(line.replace(/^\s+/, '    '));
    }
    return { frames, innermost };
  }

  /** Source lines around a position, IPython style, with an arrow on the failing line. */
  excerpt(position: CellPosition, context = 2): string[] {
    const cell = this.cells.get(position.filename);
    if (!cell) return [];
    return excerptLines(cell.lines, position.line - cell.lineOffset, position.column, `${position.label}, line ${position.line}`, context, cell.lineOffset);
  }

  /** The full Jupyter traceback for an error from the executor. */
  traceback(ename: string, evalue: string, stack: string): string[] {
    const { frames, innermost } = this.frames(stack);
    const header = `${BOLD_RED}${ename}${RESET}: ${evalue}`;
    return [header, ...(innermost ? this.excerpt(innermost) : []), ...frames];
  }
}

/** Formats lines around `line` (1-based within `lines`) with a marker and optional caret. */
export function excerptLines(lines: string[], line: number, column: number | undefined, title: string, context = 2, lineOffset = 0): string[] {
  const out = [`${CYAN}${title}${RESET}`];
  const first = Math.max(1, line - context);
  const last = Math.min(lines.length, line + context);
  const width = String(last + lineOffset).length;
  for (let n = first; n <= last; n++) {
    const marker = n === line ? `${GREEN}---->${RESET} ` : '      ';
    out.push(`${marker}${String(n + lineOffset).padStart(width)} ${n === line ? RED : ''}${lines[n - 1] ?? ''}${n === line ? RESET : ''}`);
    if (n === line && column !== undefined) out.push(`${' '.repeat(6 + width + column)}${RED}^${RESET}`);
  }
  return out;
}
