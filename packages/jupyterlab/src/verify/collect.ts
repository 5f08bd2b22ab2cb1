/**
 * The run records a fresh run writes, from its IOPub messages, the way JupyterLab's output area
 * would store them: `display_data` and `execute_result` append an output, `update_display_data`
 * replaces every output with that display id, `clear_output` clears the cell (with `wait`, just
 * before its next output).
 *
 * @see https://jupyter-client.readthedocs.io/en/latest/messaging.html#messages-on-the-iopub-pub-sub-channel
 */
import { isRunRecord, RUN_RECORD_MIME, type RunRecord } from '../records';

/** The parts of an IOPub message the collector reads. */
export interface IopubMessage {
  header: { msg_type: string };
  content: unknown;
}

/** A record the fresh run wrote. */
export interface CollectedRecord {
  cellIndex: number;
  /** Index of the output in the cell (as the notebook would store it). */
  outputIndex: number;
  record: RunRecord;
}

/** One output of a cell: a record or something else. */
interface Output {
  record?: RunRecord;
  /** The stream name, for merging consecutive stream outputs as the output area does. */
  stream?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The run record in a MIME bundle (parsed when a kernel sent it as a JSON string). */
export function recordInBundle(data: unknown): RunRecord | undefined {
  if (!isObject(data)) return undefined;
  let value = data[RUN_RECORD_MIME];
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return isRunRecord(value) ? value : undefined;
}

/** Collects run records from the IOPub messages of a notebook's cells, run one after another. */
export class RecordCollector {
  private readonly cells = new Map<number, Output[]>();
  private readonly byDisplayId = new Map<string, Output[]>();
  private clearBeforeNext = new Set<number>();

  /** Applies one IOPub message of the request that ran cell `cellIndex`. */
  handle(cellIndex: number, message: IopubMessage): void {
    const c = isObject(message.content) ? message.content : {};
    switch (message.header.msg_type) {
      case 'clear_output':
        if (c.wait) this.clearBeforeNext.add(cellIndex);
        else this.clear(cellIndex);
        return;
      case 'update_display_data': {
        const id = displayId(c);
        if (id) for (const output of this.byDisplayId.get(id) ?? []) output.record = recordInBundle(c.data);
        return;
      }
      case 'stream': {
        const outputs = this.outputs(cellIndex);
        const name = String(c.name ?? 'stdout');
        if (outputs.at(-1)?.stream !== name) outputs.push({ stream: name });
        return;
      }
      case 'display_data':
      case 'execute_result': {
        const outputs = this.outputs(cellIndex);
        const output: Output = { record: recordInBundle(c.data) };
        const id = displayId(c);
        if (id) {
          for (const other of this.byDisplayId.get(id) ?? []) other.record = output.record;
          this.byDisplayId.set(id, [...(this.byDisplayId.get(id) ?? []), output]);
        }
        outputs.push(output);
        return;
      }
      case 'error':
        this.outputs(cellIndex).push({});
        return;
      default:
        return;
    }
  }

  /** The records so far, in cell then output order. */
  records(): CollectedRecord[] {
    const found: CollectedRecord[] = [];
    for (const cellIndex of [...this.cells.keys()].sort((a, b) => a - b)) {
      this.cells.get(cellIndex)!.forEach((output, outputIndex) => {
        if (output.record) found.push({ cellIndex, outputIndex, record: output.record });
      });
    }
    return found;
  }

  /** The cell's outputs, after a pending `clear_output(wait)`. */
  private outputs(cellIndex: number): Output[] {
    if (this.clearBeforeNext.delete(cellIndex)) this.clear(cellIndex);
    let outputs = this.cells.get(cellIndex);
    if (!outputs) this.cells.set(cellIndex, (outputs = []));
    return outputs;
  }

  private clear(cellIndex: number): void {
    const gone = new Set(this.cells.get(cellIndex) ?? []);
    this.cells.set(cellIndex, []);
    for (const [id, outputs] of this.byDisplayId) this.byDisplayId.set(id, outputs.filter((o) => !gone.has(o)));
  }
}

function displayId(content: Record<string, unknown>): string | undefined {
  const transient = content.transient;
  return isObject(transient) && typeof transient.display_id === 'string' && transient.display_id ? transient.display_id : undefined;
}
