/**
 * Papermill-style parameters for TypeScript notebooks. `-p key=value` takes the value as JSON when
 * it parses (`-p lr=1e-3`, `-p layers=[64,32]`, `-p fast=true`), else as a string (`-p name=mnist`).
 * The parameters become a code cell tagged `injected-parameters`:
 *
 * ```ts
 * // Injected parameters
 * const lr = 0.001;
 * const name = "mnist";
 * ```
 *
 * placed right after the first cell tagged `parameters` (whose defaults it overrides: the kernel
 * lets a later cell redeclare a top-level `const`), replacing an injected cell already there; at
 * the top when no cell is tagged `parameters`.
 *
 * @see https://papermill.readthedocs.io/en/latest/usage-parameterize.html
 */
import { randomBytes } from 'node:crypto';
import type { Cell, CodeCell, Notebook } from './nbformat.js';

/** A bad `-p` argument. */
export class ParameterError extends Error {
  override readonly name = 'ParameterError';
}

/** Words that cannot name a `const`. */
const RESERVED = new Set(
  ('break case catch class const continue debugger default delete do else enum export extends false finally for function if ' +
    'import in instanceof new null return super switch this throw true try typeof var void while with yield let static ' +
    'implements interface package private protected public await arguments eval undefined NaN Infinity').split(' '),
);

/** Parses one `key=value`. Throws {@link ParameterError} naming the argument. */
export function parseParameter(arg: string): [string, unknown] {
  const eq = arg.indexOf('=');
  if (eq < 0) throw new ParameterError(`-p ${JSON.stringify(arg)}: expected key=value`);
  const key = arg.slice(0, eq);
  const raw = arg.slice(eq + 1);
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) || RESERVED.has(key)) {
    throw new ParameterError(`-p ${JSON.stringify(arg)}: ${JSON.stringify(key)} is not a name a TypeScript const can have`);
  }
  try {
    return [key, JSON.parse(raw) as unknown];
  } catch {
    return [key, raw];
  }
}

/** The injected cell's source for `parameters` (in their order). */
export function parametersSource(parameters: Map<string, unknown>): string {
  const lines = ['// Injected parameters'];
  for (const [key, value] of parameters) lines.push(`const ${key} = ${JSON.stringify(value)};`);
  return `${lines.join('\n')}\n`;
}

const tags = (cell: Cell): string[] => (Array.isArray(cell.metadata.tags) ? (cell.metadata.tags as unknown[]).filter((t): t is string => typeof t === 'string') : []);

function newCellId(nb: Notebook): string {
  const taken = new Set(nb.cells.map((c) => c.id));
  for (;;) {
    const id = randomBytes(4).toString('hex');
    if (!taken.has(id)) return id;
  }
}

/** Where {@link injectParameters} put the cell. */
export interface Injection {
  /** Index of the injected cell in `cells`. */
  index: number;
  /** Index of the cell tagged `parameters`, or -1 when there is none (the cell went to the top). */
  parametersCell: number;
  /** An earlier injected-parameters cell was replaced. */
  replaced: boolean;
}

/** Inserts (or replaces) the injected-parameters cell in `nb`, in place. */
export function injectParameters(nb: Notebook, parameters: Map<string, unknown>): Injection {
  const before = nb.cells.length;
  nb.cells = nb.cells.filter((c) => !tags(c).includes('injected-parameters'));
  const replaced = nb.cells.length !== before;
  const parametersCell = nb.cells.findIndex((c) => tags(c).includes('parameters'));
  const cell: CodeCell = {
    cell_type: 'code',
    ...(nb.nbformat_minor >= 5 ? { id: newCellId(nb) } : {}),
    metadata: { tags: ['injected-parameters'] },
    source: parametersSource(parameters),
    execution_count: null,
    outputs: [],
  };
  const index = parametersCell + 1;
  nb.cells.splice(index, 0, cell);
  return { index, parametersCell, replaced };
}
