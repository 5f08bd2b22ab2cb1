/**
 * Messages between the kernel's main thread and the executor worker where cells run.
 * The main thread owns the sockets; the worker owns the user's realm.
 */
import type { DisplayData } from '../display/format.js';

/** Run a compiled cell. */
export interface RunMessage {
  type: 'run';
  id: number;
  js: string;
  filename: string;
  declared: string[];
  hasValue: boolean;
  silent: boolean;
  executionCount: number;
}

/** Run a `%%name` cell magic. */
export interface CellMagicMessage {
  type: 'cell-magic';
  id: number;
  name: string;
  args: string;
  body: string;
  bodyLine: number;
  silent: boolean;
  executionCount: number;
}

/** Evaluate `user_expressions` after a cell; each value is compiled JavaScript. */
export interface ExpressionsMessage {
  type: 'expressions';
  id: number;
  expressions: Record<string, string>;
}

/** A comm event travelling in either direction. */
export interface CommMessage {
  type: 'comm';
  /** Set on comm messages from the frontend: the worker reports `done` with it once handled. */
  id?: number;
  event: 'open' | 'msg' | 'close';
  commId: string;
  targetName?: string;
  data: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  buffers?: Uint8Array[];
}

export type ToWorker =
  | RunMessage
  | CellMagicMessage
  | ExpressionsMessage
  | CommMessage
  | { type: 'interrupt' }
  | { type: 'request'; reqId: number; method: string; params: unknown }
  | { type: 'reply'; replyTo: number; ok: boolean; value?: unknown; error?: string };

/** An error as the worker saw it; the main thread maps stack positions back to cells. */
export interface WorkerError {
  ename: string;
  evalue: string;
  stack: string;
}

/** The magics the executor's registry knows, for the cell parser and for completion. */
export interface MagicNames {
  /** Line magics whose argument is code (`%time expr`). */
  code: string[];
  /** Every line magic (code magics included). */
  line: string[];
  /** Every cell magic. */
  cell: string[];
}

/** A cell finished. */
export interface DoneMessage {
  type: 'done';
  id: number;
  status: 'ok' | 'error' | 'interrupted';
  value?: DisplayData;
  error?: WorkerError;
  /** `user_expressions` results, for an `expressions` request. */
  expressions?: Record<string, { status: 'ok'; data: DisplayData['data']; metadata: DisplayData['metadata'] } | ({ status: 'error' } & WorkerError)>;
  /** Payloads for the execute_reply (e.g. the pager). */
  payload?: Array<Record<string, unknown>>;
}

/** How loading one default extension (`$HYPERLAB_EXTENSIONS`) went. */
export interface ExtensionLoad {
  /** The package specifier. */
  name: string;
  /** Whether its `registerMagics` ran. */
  ok: boolean;
  /** Why not. */
  error?: string;
}

export type FromWorker =
  | { type: 'ready'; magics: MagicNames; extensions: ExtensionLoad[] }
  | { type: 'stream'; name: 'stdout' | 'stderr'; text: string }
  | { type: 'display'; display: DisplayData; displayId?: string; update: boolean }
  | { type: 'clear'; wait: boolean }
  | { type: 'interrupt-ack' }
  | { type: 'magics'; magics: MagicNames }
  | DoneMessage
  | CommMessage
  | { type: 'request'; reqId: number; method: string; params: unknown }
  | { type: 'reply'; replyTo: number; ok: boolean; value?: unknown; error?: string };
