/**
 * Re-running a notebook's code in a fresh kernel, through the Jupyter server's session API, as
 * "Run All" would in a new kernel but without touching the notebook: the session has a hidden
 * path in the notebook's folder (so the kernel's working directory is the notebook's), each code
 * cell runs in order with `stop_on_error`, the run records of the IOPub stream are collected, and
 * the session is shut down however the run ends.
 *
 * @see https://jupyter-client.readthedocs.io/en/latest/messaging.html#execute
 */
import type { KernelMessage, Session } from '@jupyterlab/services';
import { RecordCollector, type CollectedRecord } from './collect';

/** A code cell to run. */
export interface CodeToRun {
  /** Index of the cell in the notebook (0-based). */
  cellIndex: number;
  source: string;
}

/** Where the re-run stopped with an error. */
export interface CellError {
  cellIndex: number;
  ename: string;
  evalue: string;
}

/** The outcome of {@link runFresh}. */
export interface FreshRun {
  /** The records written, in cell then output order. */
  records: CollectedRecord[];
  /** How many cells ran (to the end, or up to and including the failing one). */
  executed: number;
  /** The first error, if a cell raised one. */
  error?: CellError;
  /** The run was cancelled (then `error` is unset: an interrupted cell is not the notebook's fault). */
  cancelled: boolean;
}

/** What {@link runFresh} needs of the session manager. */
export interface SessionStarter {
  startNew(options: Session.ISessionOptions): Promise<Session.ISessionConnection>;
}

/** Options of {@link runFresh}. */
export interface FreshRunOptions {
  /** `app.serviceManager.sessions`. */
  sessions: SessionStarter;
  /** The notebook's path (its session path, e.g. `notebooks/quickstart.ipynb`). */
  notebookPath: string;
  /** The kernelspec to start. */
  kernelName: string;
  /** The code cells, in notebook order. */
  cells: CodeToRun[];
  /** A unique id for the session's path. */
  uuid: () => string;
  /** Called before each cell runs: `k` of `n` (1-based). */
  onProgress?: (k: number, n: number, cellIndex: number) => void;
  /** Called once the kernel is up, with a function that cancels the run (interrupting the kernel). */
  onStarted?: (cancel: () => void) => void;
}

/** The session path of a re-run: a hidden, unique notebook path in the notebook's folder. */
export function verifySessionPath(notebookPath: string, uuid: string): string {
  const slash = notebookPath.lastIndexOf('/');
  const dir = slash >= 0 ? notebookPath.slice(0, slash + 1) : '';
  return `${dir}.hyperlab-verify-${uuid}.ipynb`;
}

/** Runs the cells in a new kernel and collects the run records; always shuts the session down. */
export async function runFresh(options: FreshRunOptions): Promise<FreshRun> {
  const { cells } = options;
  const session = await options.sessions.startNew({
    path: verifySessionPath(options.notebookPath, options.uuid()),
    type: 'notebook',
    name: 'verify',
    kernel: { name: options.kernelName },
  });
  const collector = new RecordCollector();
  let cancelled = false;
  let executed = 0;
  let error: CellError | undefined;
  try {
    const kernel = session.kernel;
    if (!kernel) throw new Error('the verify session has no kernel');
    options.onStarted?.(() => {
      cancelled = true;
      void kernel.interrupt().catch(() => undefined);
    });
    for (let k = 0; k < cells.length && !cancelled; k++) {
      const { cellIndex, source } = cells[k];
      options.onProgress?.(k + 1, cells.length, cellIndex);
      const future = kernel.requestExecute({ code: source, stop_on_error: true, store_history: true }, true);
      let iopubError: CellError | undefined;
      future.onIOPub = (msg: KernelMessage.IIOPubMessage) => {
        if (msg.header.msg_type === 'error') {
          const c = msg.content as KernelMessage.IErrorMsg['content'];
          iopubError ??= { cellIndex, ename: c.ename, evalue: c.evalue };
        }
        collector.handle(cellIndex, msg);
      };
      let reply: KernelMessage.IExecuteReplyMsg;
      try {
        reply = await future.done;
      } catch (reason) {
        // The future is cancelled when the kernel dies or restarts under it.
        executed++;
        error = { cellIndex, ename: 'KernelError', evalue: reason instanceof Error ? reason.message : String(reason) };
        break;
      }
      executed++;
      const content = reply.content;
      if (cancelled) break;
      if (content.status === 'error') {
        error = { cellIndex, ename: content.ename, evalue: content.evalue };
      } else if (content.status === 'aborted') {
        error = iopubError ?? { cellIndex, ename: 'Aborted', evalue: 'the kernel aborted the execution' };
      } else if (iopubError) {
        error = iopubError;
      }
      if (error) break;
    }
  } finally {
    await session.shutdown().catch((reason: unknown) => console.warn('hyperlab verify: could not shut the session down', reason));
    session.dispose();
  }
  return { records: collector.records(), executed, error: cancelled ? undefined : error, cancelled };
}
