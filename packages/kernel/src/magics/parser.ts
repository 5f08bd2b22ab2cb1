/**
 * Splits a cell into TypeScript and IPython-style magics:
 * `%%name args` on the first line makes the whole cell a cell magic; a line `%name args` is a
 * line magic wherever a statement could stand; `!cmd` runs a shell command; `?name` / `name?`
 * asks for help. Line-level forms are rewritten in place into calls on the kernel's `__hl`
 * runtime object, on the same line, so line numbers of the cell are preserved.
 */

/** A whole-cell magic: `%%name args` followed by a body. */
export interface CellMagicCall {
  kind: 'cell-magic';
  name: string;
  args: string;
  body: string;
  /** 1-based cell line where the body starts. */
  bodyLine: number;
}

/** A request for help on a name (`?name`, `name?`, `??name`, `name??`). */
export interface HelpRequest {
  kind: 'help';
  target: string;
  detailLevel: 0 | 1;
}

/** Code with line magics, shell escapes and help lines rewritten into runtime calls. */
export interface CodeCell {
  kind: 'code';
  code: string;
  /** Names of the line magics the cell uses, with their 1-based lines, for error messages. */
  magics: Array<{ name: string; line: number }>;
}

export type ParsedCell = CellMagicCall | HelpRequest | CodeCell;

const NAME = /[A-Za-z_][\w.-]*/.source;
const CELL_MAGIC = new RegExp(`^%%(${NAME})(?:[ \\t]+(.*))?$`);
const LINE_MAGIC = new RegExp(`^([ \\t]*)%(${NAME})(?:[ \\t]+(.*?))?[ \\t]*$`);
const SHELL = /^([ \t]*)!(?!=)(.+?)[ \t]*$/;
const HELP_PREFIX = /^[ \t]*(\?\??)([A-Za-z_$][\w$.]*)[ \t]*$/;
const HELP_SUFFIX = /^[ \t]*([A-Za-z_$][\w$.]*)(\?\??)[ \t]*$/;

/** Magics whose argument is code evaluated in the cell's scope (e.g. `%time f()`). */
export const DEFAULT_CODE_MAGICS: ReadonlySet<string> = new Set(['time', 'timeit']);

/**
 * Parses a cell. `codeMagics` lists line magics whose argument is an expression: it is wrapped in
 * an async arrow function so that it evaluates in the cell's own scope.
 */
export function parseCell(source: string, codeMagics: ReadonlySet<string> = DEFAULT_CODE_MAGICS): ParsedCell {
  const lines = source.split('\n');
  const first = lines[0].replace(/\r$/, '');
  const cellMagic = CELL_MAGIC.exec(first.trimStart());
  if (cellMagic && first.trimStart() === first) {
    return { kind: 'cell-magic', name: cellMagic[1], args: (cellMagic[2] ?? '').trim(), body: lines.slice(1).join('\n'), bodyLine: 2 };
  }
  const nonBlank = lines.filter((line) => line.trim() !== '');
  if (nonBlank.length === 1) {
    const prefix = HELP_PREFIX.exec(nonBlank[0]);
    if (prefix) return { kind: 'help', target: prefix[2], detailLevel: prefix[1].length === 2 ? 1 : 0 };
    const suffix = HELP_SUFFIX.exec(nonBlank[0]);
    if (suffix) return { kind: 'help', target: suffix[1], detailLevel: suffix[2].length === 2 ? 1 : 0 };
  }
  const magics: CodeCell['magics'] = [];
  const out = lines.map((raw, index) => {
    const line = raw.replace(/\r$/, '');
    const magic = LINE_MAGIC.exec(line);
    if (magic) {
      const [, indent, name, args = ''] = magic;
      magics.push({ name, line: index + 1 });
      if (codeMagics.has(name)) {
        const { flags, code } = splitFlags(args);
        const body = code.trim() === '' ? 'undefined' : code;
        return `${indent}await __hl.codeMagic(${JSON.stringify(name)}, ${JSON.stringify(flags)}, async () => (${body}));`;
      }
      return `${indent}await __hl.lineMagic(${JSON.stringify(name)}, ${JSON.stringify(args)}, ${index + 1});`;
    }
    const shell = SHELL.exec(line);
    if (shell) {
      magics.push({ name: '!', line: index + 1 });
      return `${shell[1]}await __hl.shell(${JSON.stringify(shell[2])});`;
    }
    return line;
  });
  return { kind: 'code', code: out.join('\n'), magics };
}

/** Splits leading `-x` / `--name value`-style flags (IPython's `%timeit -n 10 expr`) from code. */
export function splitFlags(args: string): { flags: string; code: string } {
  const flag = /^\s*(-{1,2}[A-Za-z][\w-]*(?:[ =](?![-\s])\d+(?:\.\d+)?)?)(?=\s|$)/;
  let rest = args;
  const flags: string[] = [];
  for (let match = flag.exec(rest); match; match = flag.exec(rest)) {
    flags.push(match[1]);
    rest = rest.slice(match[0].length);
  }
  return { flags: flags.join(' '), code: rest.trim() };
}

/**
 * Splits a magic's argument string into words, honouring single and double quotes:
 * `a "b c" 'd'` → `["a", "b c", "d"]`.
 */
export function splitArgs(args: string): string[] {
  const words: string[] = [];
  const word = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let match = word.exec(args); match; match = word.exec(args)) {
    words.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : (match[2] ?? match[3]));
  }
  return words;
}

/**
 * The cell with magic, shell and help lines replaced by spaces of the same length, so that the
 * TypeScript language service can complete and inspect the code around them at unchanged offsets.
 */
export function blankMagicLines(source: string): string {
  return source
    .split('\n')
    .map((line) => (/^[ \t]*(%|!(?!=)|\?)/.test(line) || /^[ \t]*[A-Za-z_$][\w$.]*\?\??[ \t]*$/.test(line) ? ' '.repeat(line.length) : line))
    .join('\n');
}
