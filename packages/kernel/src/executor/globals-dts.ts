/**
 * Type declarations of the globals the executor gives every cell, so that type checking and
 * completion know `display`, `input`, `comms` and the kernel's own runtime calls.
 */
export const GLOBALS_DTS = `
/** A displayed output that can be replaced in place. */
interface HyperlabDisplayHandle {
  /** The output's display id. */
  readonly id: string;
  /** Replaces the output with a new value. */
  update(value: unknown): void;
  /** Shows the value again under the same id. */
  display(value: unknown): void;
}
interface HyperlabDisplayOptions { id?: string; update?: boolean }
interface HyperlabDisplay {
  /** Shows a value in the cell's output (rich when it can: tensors, tables, objects with [Symbol.for("jupyter.mimebundle")]). */
  (value: unknown, options?: HyperlabDisplayOptions): HyperlabDisplayHandle;
  /** Shows HTML. */
  html(html: string, options?: HyperlabDisplayOptions): HyperlabDisplayHandle;
  /** Shows Markdown. */
  markdown(markdown: string, options?: HyperlabDisplayOptions): HyperlabDisplayHandle;
  /** Shows an SVG image. */
  svg(svg: string, options?: HyperlabDisplayOptions): HyperlabDisplayHandle;
  /** Shows a PNG image from bytes, base64 or a data: URL. */
  png(data: Uint8Array | string, options?: { width?: number; height?: number } & HyperlabDisplayOptions): HyperlabDisplayHandle;
  /** Shows a JPEG image from bytes, base64 or a data: URL. */
  jpeg(data: Uint8Array | string, options?: { width?: number; height?: number } & HyperlabDisplayOptions): HyperlabDisplayHandle;
  /** Shows JSON as an expandable tree. */
  json(value: unknown, options?: { expanded?: boolean } & HyperlabDisplayOptions): HyperlabDisplayHandle;
  /** Shows LaTeX. */
  latex(tex: string, options?: HyperlabDisplayOptions): HyperlabDisplayHandle;
  /** Shows plain text. */
  text(text: string, options?: HyperlabDisplayOptions): HyperlabDisplayHandle;
  /** Shows a Plotly figure (application/vnd.plotly.v1+json). */
  plotly(figure: { data: unknown[]; layout?: object; config?: object } | unknown[], layout?: object): HyperlabDisplayHandle;
  /** Replaces the output shown under \`id\`. */
  update(id: string, value: unknown): HyperlabDisplayHandle;
  /** Shows a raw MIME bundle. */
  bundle(data: Record<string, unknown>, metadata?: Record<string, unknown>, options?: HyperlabDisplayOptions): HyperlabDisplayHandle;
}
/** Shows values and MIME bundles in the cell's output. */
declare var display: HyperlabDisplay;
/** Clears the cell's output (with \`wait\`, when the next output arrives). */
declare function clearOutput(wait?: boolean): void;
/** Asks the user for a line of text through the frontend (Jupyter stdin). */
declare function input(prompt?: string): Promise<string>;
/** Asks the user for a password through the frontend; the text is not echoed. */
declare function password(prompt?: string): Promise<string>;
interface HyperlabComm {
  readonly commId: string;
  readonly targetName: string;
  readonly isOpen: boolean;
  send(data?: Record<string, unknown>, metadata?: Record<string, unknown>, buffers?: Uint8Array[]): void;
  close(data?: Record<string, unknown>): void;
  onMsg(listener: (data: Record<string, unknown>, buffers: Uint8Array[], metadata: Record<string, unknown>) => void): this;
  onClose(listener: (data: Record<string, unknown>) => void): this;
}
/** Jupyter comms: open comms to the frontend or accept the ones it opens. */
declare var comms: {
  open(targetName: string, data?: Record<string, unknown>, metadata?: Record<string, unknown>): HyperlabComm;
  registerTarget(targetName: string, handler: (comm: HyperlabComm, data: Record<string, unknown>) => void): void;
  unregisterTarget(targetName: string): void;
  get(commId: string): HyperlabComm | undefined;
};
/** The symbol under which an object may return its own MIME bundle: Symbol.for("jupyter.mimebundle"). */
declare var MIMEBUNDLE: symbol;
/** @internal The kernel's runtime, called by rewritten magic lines. */
declare var __hl: {
  lineMagic(name: string, args: string, line: number): Promise<any>;
  codeMagic<T>(name: string, flags: string, code: () => Promise<T>): Promise<T>;
  shell(command: string): Promise<void>;
};
`;
