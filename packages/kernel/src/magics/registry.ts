/**
 * The magics registry: what `%name` (line), `%%name` (cell) and code-taking line magics such as
 * `%time expr` resolve to. Packages add magics with `%load_ext <package>`: the package exports a
 * function `registerMagics(registry)` (or a default export with that method) that calls
 * {@link MagicRegistry.register}.
 *
 * @example
 * ```ts
 * export function registerMagics(registry: MagicRegistry) {
 *   registry.register({ kind: 'line', name: 'hello', help: 'Greets.', run: (ctx) => ctx.print(`hello ${ctx.args}`) });
 * }
 * ```
 */
import type { DisplayData } from '../display/format.js';

/** What a magic can do while it runs; supplied by the executor. */
export interface MagicContext {
  /** The text after the magic's name. */
  args: string;
  /** `args` split into words, honouring quotes. */
  argv: string[];
  /** For cell magics, the rest of the cell. */
  body: string;
  /** 1-based cell line of the magic (of the body's first line for cell magics). */
  line: number;
  /** Prints to the cell's stdout (a newline is added). */
  print(text: string): void;
  /** Prints to the cell's stderr (a newline is added). */
  printError(text: string): void;
  /** Shows a value or MIME bundle in the cell's output; returns its display id. */
  display(value: unknown, options?: { displayId?: string; update?: boolean }): string;
  /** Compiles TypeScript in the notebook's language service and runs it in the notebook's scope. */
  runCode(code: string): Promise<unknown>;
  /** Calls a kernel service on the main thread (history, typecheck, chdir, declare, …). */
  kernel(method: string, params?: unknown): Promise<unknown>;
  /** Creates or replaces a notebook variable; `type` (TypeScript) makes it known to type checking. */
  setGlobal(name: string, value: unknown, type?: string): Promise<void>;
  /** Aborted when the user interrupts the cell. */
  signal: AbortSignal;
  /** The registry, so magics like %lsmagic can list it. */
  registry: MagicRegistry;
}

interface MagicBase {
  name: string;
  /** One line shown by %lsmagic and `%name?`. */
  help: string;
}

/** `%name args` on a line. */
export interface LineMagic extends MagicBase {
  kind: 'line';
  run(ctx: MagicContext): unknown;
}

/** `%name flags expr`: the expression is evaluated in the cell's own scope by calling `code()`. */
export interface CodeMagic extends MagicBase {
  kind: 'code';
  run(ctx: MagicContext, code: () => Promise<unknown>): unknown;
}

/** `%%name args` on a cell's first line; the rest of the cell is `ctx.body`. */
export interface CellMagic extends MagicBase {
  kind: 'cell';
  /** Language of the body: 'typescript' bodies are type-checked and completed like code. */
  bodyLanguage: 'typescript' | 'yaml' | 'text';
  run(ctx: MagicContext): unknown;
}

export type Magic = LineMagic | CodeMagic | CellMagic;

/** The result a magic may return to be shown as rich output. */
export type MagicResult = DisplayData | unknown;

/** Levenshtein distance, for suggesting the closest names to a mistyped magic. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

/** An unknown magic, with the closest known names. */
export class UnknownMagicError extends Error {
  constructor(readonly magic: string, readonly kind: 'line' | 'cell', readonly suggestions: string[], line: number) {
    const prefix = kind === 'cell' ? '%%' : '%';
    const hint = suggestions.length ? ` Did you mean ${suggestions.map((name) => prefix + name).join(', ')}?` : '';
    super(`${prefix}${magic} (cell line ${line}) is not a known ${kind} magic.${hint} %lsmagic lists them all.`);
    this.name = 'UsageError';
  }
}

/** Line, code and cell magics by name. */
export class MagicRegistry {
  private readonly line = new Map<string, LineMagic | CodeMagic>();
  private readonly cell = new Map<string, CellMagic>();
  private readonly listeners: Array<() => void> = [];

  /** Adds or replaces a magic. */
  register(magic: Magic): void {
    if (!/^[A-Za-z_][\w.-]*$/.test(magic.name)) throw new Error(`invalid magic name "${magic.name}"`);
    if (magic.kind === 'cell') this.cell.set(magic.name, magic);
    else this.line.set(magic.name, magic);
    for (const listener of this.listeners) listener();
  }

  /** Calls `listener` whenever a magic is registered. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** A line (or code) magic by name. */
  lineMagic(name: string): LineMagic | CodeMagic | undefined {
    return this.line.get(name);
  }

  /** A cell magic by name. */
  cellMagic(name: string): CellMagic | undefined {
    return this.cell.get(name);
  }

  /** All magics of a kind, sorted by name. */
  list(kind: 'line' | 'cell'): Magic[] {
    const map: Map<string, Magic> = kind === 'cell' ? this.cell : this.line;
    return [...map.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Names of the magics whose argument is code (`%time expr`), for the cell parser. */
  codeMagicNames(): string[] {
    return [...this.line.values()].filter((magic) => magic.kind === 'code').map((magic) => magic.name);
  }

  /** Up to three known names closest to `name`. */
  suggest(name: string, kind: 'line' | 'cell'): string[] {
    const names = [...(kind === 'cell' ? this.cell : this.line).keys()];
    return names
      .map((candidate) => ({ candidate, distance: editDistance(name.toLowerCase(), candidate.toLowerCase()) }))
      .filter(({ candidate, distance }) => distance <= Math.max(2, Math.floor(candidate.length / 2)) || candidate.startsWith(name) || name.startsWith(candidate))
      .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
      .slice(0, 3)
      .map(({ candidate }) => candidate);
  }
}

/** The magics packages a session loads at start unless `HYPERLAB_EXTENSIONS` says otherwise. */
export const DEFAULT_EXTENSIONS = '@hyperlab/magics';

/**
 * Calls a magics package's `registerMagics(registry)` (a named export, or a method of the default
 * export), as `%load_ext` does.
 * @throws Error naming the package and what it exports when there is no such function.
 */
export async function registerExtension(registry: MagicRegistry, ns: Record<string, unknown>, specifier: string): Promise<void> {
  const candidate = (ns.registerMagics ?? (ns.default as Record<string, unknown> | undefined)?.registerMagics) as ((registry: MagicRegistry) => unknown) | undefined;
  if (typeof candidate !== 'function') {
    throw new Error(`${specifier} does not export registerMagics(registry); it exports: ${Object.keys(ns).join(', ') || 'nothing'}`);
  }
  await candidate(registry);
}
