/**
 * Reading a notebook file: parse, validate (official nbformat schema when available, else the
 * built-in checks), and name every problem by file, line, column and JSON Pointer:
 *
 * ```text
 * nb.ipynb: not a valid nbformat 4 notebook (official schema nbformat.v4.5.schema.json of nbformat 5.11.1; 1 problem):
 *   nb.ipynb:14:17: /cells/1/source: must be string or array, got number 1
 * ```
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { jsonErrorOffset, jsonPointerOffsets, lineColumn } from './json-position.js';
import { joinMultilineStrings, NotebookReadError, validateNotebook, type Notebook, type NotebookError } from './nbformat.js';
import { officialSchema } from './nbformat-schema.js';
import type { PythonLookup } from './python.js';

/**
 * Which validation to use: `auto` (default) the official schema when a Python nbformat is found,
 * else the built-in checks (saying so once on stderr); `official` the schema or an error;
 * `builtin` the built-in checks only.
 */
export type ValidationMode = 'auto' | 'official' | 'builtin';

/** Options of {@link parseNotebook} and {@link readNotebook}. */
export interface ReadOptions {
  /** See {@link ValidationMode}. Default `auto`. */
  validation?: ValidationMode;
  /** Where the once-per-process fallback notice goes (default: stderr). */
  warn?: (message: string) => void;
  /** The Python to take nbformat's schema from (default: `jupyterPython()`, see `python.ts`). */
  python?: PythonLookup;
}

/** How a notebook was validated. */
export interface ValidationReport {
  /** The problems found (with line and column when the text was given). */
  errors: NotebookError[];
  /** `official schema nbformat.v4.5.schema.json of nbformat 5.11.1` or `HyperLab's built-in checks`. */
  validator: string;
}

let fallbackNoticeGiven = false;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validates a parsed notebook (see {@link ValidationMode}); with `text`, each error gets the line
 * and column of its value (or of its nearest existing parent). Throws only in `official` mode
 * when the schema is unavailable.
 */
export function validateNotebookValue(value: unknown, text?: string, options: ReadOptions = {}): ValidationReport {
  const mode = options.validation ?? 'auto';
  let report: ValidationReport | undefined;
  // The v4 schema only describes v4 notebooks: anything else gets the built-in "nbformat must be 4".
  const v4 = isObject(value) && value.nbformat === 4;
  if (mode !== 'builtin' && v4) {
    const minor = Number.isInteger(value.nbformat_minor) ? (value.nbformat_minor as number) : 5;
    const schema = officialSchema(minor, options.python);
    if ('unavailable' in schema) {
      if (mode === 'official') throw new Error(`the official nbformat schema is unavailable: ${schema.unavailable}`);
      if (!fallbackNoticeGiven) {
        fallbackNoticeGiven = true;
        (options.warn ?? ((m: string) => process.stderr.write(m)))(
          `hyperlab: validating with HyperLab's built-in nbformat checks, not the official schema (${schema.unavailable}); ` +
            'install nbformat in the venv (scripts/setup-venv.sh) or set HYPERLAB_PYTHON\n',
        );
      }
    } else {
      const from = schema.nbformatVersion ? ` of nbformat ${schema.nbformatVersion}` : '';
      const note = schema.exact ? '' : ` (newest available; the notebook says 4.${minor})`;
      report = { errors: schema.validate(value), validator: `official schema ${path.basename(schema.file)}${from}${note}` };
    }
  }
  report ??= { errors: validateNotebook(value), validator: "HyperLab's built-in checks" };
  if (text !== undefined) {
    locate(text, report.errors);
    report.errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  }
  return report;
}

/** Fills `line`/`column` of each error from the text. */
function locate(text: string, errors: NotebookError[]): void {
  const ancestors = (p: string): string[] => {
    const list = [p];
    while (p !== '') list.push((p = p.slice(0, p.lastIndexOf('/'))));
    return list;
  };
  const offsets = jsonPointerOffsets(text, errors.flatMap((e) => ancestors(e.path)));
  for (const error of errors) {
    const at = ancestors(error.path).find((p) => offsets.has(p));
    if (at !== undefined) Object.assign(error, lineColumn(text, offsets.get(at)!));
  }
}

/** At most this many problems are listed in a message. */
const MAX_LISTED = 20;

/** One problem as a message line: `file:line:col: /json/path: message`. */
export function formatNotebookError(file: string, e: NotebookError): string {
  const where = e.line !== undefined ? `${file}:${e.line}:${e.column}: ` : `${file}: `;
  return `${where}${e.path || '(root)'}: ${e.message}`;
}

/** Parses and validates notebook text; `file` names it in errors. Throws {@link NotebookReadError}. */
export function parseNotebook(text: string, file = '<notebook>', options: ReadOptions = {}): Notebook {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const offset = jsonErrorOffset(text);
    const where = offset < 0 ? '' : (({ line, column }) => ` at line ${line}, column ${column} (offset ${offset})`)(lineColumn(text, offset));
    throw new NotebookReadError(file, `not valid JSON${where}: ${(e as Error).message}`);
  }
  const { errors, validator } = validateNotebookValue(value, text, options);
  if (errors.length > 0) {
    const listed = errors.slice(0, MAX_LISTED).map((e) => `  ${formatNotebookError(file, e)}`);
    if (errors.length > MAX_LISTED) listed.push(`  … and ${errors.length - MAX_LISTED} more`);
    const count = `${errors.length} problem${errors.length === 1 ? '' : 's'}`;
    throw new NotebookReadError(file, `not a valid nbformat 4 notebook (${validator}; ${count}):\n${listed.join('\n')}`, errors);
  }
  // In memory every multi-line string is one string; writing splits them again, as Jupyter does.
  return joinMultilineStrings(value as Notebook);
}

/** Reads and validates a notebook file. Throws {@link NotebookReadError} naming the file and the problem. */
export function readNotebook(file: string, options: ReadOptions = {}): Notebook {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new NotebookReadError(file, `cannot read: ${(e as Error).message}`);
  }
  return parseNotebook(text, file, options);
}
