/**
 * Turning a cell's IOPub messages into nbformat outputs, as JupyterLab and nbclient do:
 *
 * - `stream`: appended to the previous output when that is a stream of the same name, with
 *   carriage returns applied (`"50%\r100%\n"` keeps `"100%\n"`, as nbconvert's coalesce_streams);
 * - `display_data`, `execute_result`, `error`: appended; a display's `transient.display_id` is
 *   tracked but never saved (nbformat has no place for it);
 * - `update_display_data`: replaces data and metadata of every output in the notebook that
 *   carries that display id (a new `display_data` with a known id does the same, then appends);
 * - `clear_output`: clears the cell's outputs now, or with `wait: true` just before the next
 *   output arrives.
 *
 * @see https://jupyter-client.readthedocs.io/en/latest/messaging.html#messages-on-the-iopub-pub-sub-channel
 */
import type { CodeCell, DisplayDataOutput, ExecuteResultOutput, MimeBundle, Output, StreamOutput } from './nbformat.js';

/** The parts of a Jupyter message this module reads. */
export interface IopubMessage {
  header: { msg_type: string };
  content: Record<string, unknown>;
}

type DisplayOutput = DisplayDataOutput | ExecuteResultOutput;

/** Everything before a `\r` that is followed by more text on the same line goes (nbconvert's rule). */
const CARRIAGE_RETURN = /[^\n]*\r(?=[^\n])/g;

const textOf = (t: string | string[]): string => (Array.isArray(t) ? t.join('') : t);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Collects the outputs of one notebook's cells; one instance per notebook run (display ids span cells). */
export class OutputCollector {
  private readonly byDisplayId = new Map<string, Set<DisplayOutput>>();
  private readonly displayIdOf = new WeakMap<Output, string>();
  private clearBeforeNext = false;

  /** Call before a cell runs: a pending `clear_output(wait)` never carries over to another cell. */
  startCell(): void {
    this.clearBeforeNext = false;
  }

  /** Applies one IOPub message (of the request that runs `cell`) to the cell's outputs. */
  handle(cell: CodeCell, message: IopubMessage): void {
    const c = message.content;
    switch (message.header.msg_type) {
      case 'clear_output':
        if (c.wait) this.clearBeforeNext = true;
        else this.clear(cell);
        return;
      case 'update_display_data': {
        const id = this.displayId(c);
        if (id) this.update(id, c);
        return;
      }
      case 'stream':
        this.beforeOutput(cell);
        this.stream(cell, c.name === 'stderr' ? 'stderr' : 'stdout', String(c.text ?? ''));
        return;
      case 'display_data':
      case 'execute_result': {
        this.beforeOutput(cell);
        const data = (isObject(c.data) ? c.data : {}) as MimeBundle;
        const metadata = isObject(c.metadata) ? c.metadata : {};
        const output: DisplayOutput =
          message.header.msg_type === 'execute_result'
            ? { output_type: 'execute_result', execution_count: typeof c.execution_count === 'number' ? c.execution_count : null, data, metadata }
            : { output_type: 'display_data', data, metadata };
        const id = this.displayId(c);
        if (id) {
          this.update(id, c);
          this.track(id, output);
        }
        cell.outputs.push(output);
        return;
      }
      case 'error':
        this.beforeOutput(cell);
        cell.outputs.push({
          output_type: 'error',
          ename: String(c.ename ?? ''),
          evalue: String(c.evalue ?? ''),
          traceback: Array.isArray(c.traceback) ? c.traceback.map(String) : [],
        });
        return;
      default:
        // status, execute_input, comm_*: nothing to save
        return;
    }
  }

  private displayId(content: Record<string, unknown>): string | undefined {
    const transient = content.transient;
    return isObject(transient) && typeof transient.display_id === 'string' && transient.display_id ? transient.display_id : undefined;
  }

  private track(id: string, output: DisplayOutput): void {
    const set = this.byDisplayId.get(id) ?? new Set<DisplayOutput>();
    set.add(output);
    this.byDisplayId.set(id, set);
    this.displayIdOf.set(output, id);
  }

  private update(id: string, content: Record<string, unknown>): void {
    for (const output of this.byDisplayId.get(id) ?? []) {
      output.data = (isObject(content.data) ? content.data : {}) as MimeBundle;
      output.metadata = isObject(content.metadata) ? content.metadata : {};
    }
  }

  private beforeOutput(cell: CodeCell): void {
    if (this.clearBeforeNext) {
      this.clearBeforeNext = false;
      this.clear(cell);
    }
  }

  private clear(cell: CodeCell): void {
    for (const output of cell.outputs) {
      const id = this.displayIdOf.get(output);
      if (id) this.byDisplayId.get(id)?.delete(output as DisplayOutput);
    }
    cell.outputs.length = 0;
  }

  private stream(cell: CodeCell, name: 'stdout' | 'stderr', text: string): void {
    const last = cell.outputs[cell.outputs.length - 1];
    if (last?.output_type === 'stream' && last.name === name) {
      (last as StreamOutput).text = (textOf(last.text) + text).replace(CARRIAGE_RETURN, '');
    } else {
      cell.outputs.push({ output_type: 'stream', name, text: text.replace(CARRIAGE_RETURN, '') });
    }
  }
}
