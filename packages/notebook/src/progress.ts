/**
 * A progress bar for notebook runs on stderr: `[#####---------------] 3/12 cell 7`, redrawn in
 * place on a terminal, one line per cell otherwise (CI logs, pipes).
 */

/** Where the bar is drawn. */
export interface ProgressStream {
  write(text: string): unknown;
  /** True on a terminal: the bar is redrawn in place. */
  isTTY?: boolean;
}

/** The bar's text for `done` of `total` with `width` characters. */
export function progressBar(done: number, total: number, width = 20): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`;
}

/** Draws the progress of a run. */
export class Progress {
  private drawn = false;

  constructor(
    private readonly stream: ProgressStream = process.stderr,
    private readonly width = 20,
  ) {}

  private draw(text: string): void {
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${text}`);
      this.drawn = true;
    } else this.stream.write(`${text}\n`);
  }

  /** A cell (index `cellIndex` in the notebook) starts; `done` of `total` code cells have run. */
  cell(cellIndex: number, done: number, total: number): void {
    this.draw(`${progressBar(done, total, this.width)} cell ${cellIndex}`);
  }

  /** The run ended after `done` of `total` cells; ends the line on a terminal. */
  finish(done: number, total: number, note = done === total ? 'done' : 'stopped'): void {
    this.draw(`${progressBar(done, total, this.width)} ${note}`);
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
