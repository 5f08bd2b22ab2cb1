/**
 * The notebook's TypeScript language service: type-checks, completes and
 * inspects cells against the names declared by earlier cells.
 *
 * Model: each cell is checked as an ES module in a virtual folder of the
 * notebook's directory (`<cwd>/__hyperlab__/`), so npm imports resolve exactly
 * as for a real file there. The current cell's file is its code, unchanged,
 * followed by a footer of `import { ... } from "./cell_<n>.js"` lines that bring
 * in every name declared by earlier committed cells (imports are hoisted, and
 * an import binds a name's value, type and namespace meanings at once). Cells
 * that declare names are kept as history files `cell_<n>.ts` exporting them.
 * Nothing is written to disk.
 */
import * as path from 'node:path';
import ts from 'typescript';
import { analyzeCell, exportedCellText, type CellAnalysis, type DeclarationKind } from './declarations.js';
import { categoryName, lineColumn, lineStarts, MODULE_NOISE, UNUSED_CODES } from './diagnostics.js';
import { aliasTargetType, completionType, renderDocs, signatureText } from './display.js';
import { VirtualFileHost } from './host.js';
import { isComplete as isCompleteCode } from './is-complete.js';
import { CheckBase } from './speculative-check.js';
import { closersFor, scanStructure } from './scan.js';
import { loadCompilerOptions, toTsPath } from './tsconfig.js';
import type {
  CellDiagnostic,
  CompletionItem,
  CompletionResult,
  DeclaredName,
  InspectResult,
  IsCompleteResult,
  LanguageServiceOptions,
} from './types.js';

export type {
  CellDiagnostic,
  CompletionItem,
  CompletionResult,
  DeclaredName,
  InspectResult,
  IsCompleteResult,
  LanguageServiceOptions,
  TypecheckMode,
} from './types.js';
export { formatDiagnostics } from './diagnostics.js';

/** Name of the virtual folder, inside the notebook's directory, that holds the cell files. */
export const VIRTUAL_DIR = '__hyperlab__';
const CURRENT_CELL = 'current_cell.ts';
const GLOBALS = 'globals.d.ts';
const DECLARED_GLOBALS = 'declared-globals.d.ts';
/** Type-only imports of the modules whose types are loaded ahead of use ({@link NotebookLanguageService.preloadTypes}). */
const PRELOAD = 'preload.d.ts';
const EXPORT = 'export ';

/** Completions get a `signature` only while this budget (ms) lasts, and for at most this many items. */
const SIGNATURE_BUDGET_MS = 25;
const SIGNATURE_MAX_ITEMS = 50;
/** Lines of declaration source shown by `inspect` at detail level 1. */
const SOURCE_MAX_LINES = 60;

const CANNOT_ASSIGN_TO_IMPORT = 2632;

const KIND_NOUN: Partial<Record<DeclarationKind, string>> = {
  const: 'a constant',
  function: 'a function',
  class: 'a class',
  enum: 'an enum',
  namespace: 'a namespace',
  import: 'an import',
};

interface HistoryCell {
  /** The code as it ran. */
  code: string;
  /** Text of the history file (independent of its location). */
  text: string;
  /** Offsets in `code` where `export ` was inserted, ascending. */
  insertions: number[];
  /** Where the (exported) code ends in `text` and the footer begins. */
  codeEnd: number;
}

interface NameEntry {
  cell: number;
  kind: DeclarationKind;
  /** Also declared with another kind of statement in that cell (e.g. `let M` and `interface M`). */
  merged: boolean;
}

function isPlainVariable(entry: NameEntry): boolean {
  return (entry.kind === 'let' || entry.kind === 'var') && !entry.merged;
}

interface Footer {
  text: string;
  /** Offset of each imported name within `text`. */
  positions: Map<string, number>;
}

const COMPLETION_PREFERENCES: ts.UserPreferences = {
  includeCompletionsForModuleExports: false,
  includeCompletionsWithInsertText: true,
  includeAutomaticOptionalChainCompletions: true,
  includeCompletionsWithSnippetText: false,
  includeCompletionsWithClassMemberSnippets: false,
  includeCompletionsWithObjectLiteralMethodSnippets: false,
};

function isIdentifierChar(code: string, index: number): boolean {
  const ch = code.charCodeAt(index);
  return ts.isIdentifierPart(ch, ts.ScriptTarget.Latest) || ch === 0x23 /* # */;
}

/**
 * Type-checks, completes and inspects notebook cells with one TypeScript
 * `LanguageService` for the life of the object.
 */
export class NotebookLanguageService {
  private cwd: string;
  private compilerOptions: ts.CompilerOptions = {};
  private loadErrors: string[] = [];
  private readonly kernelTypeRoots: string[];
  private readonly globalsDts: string;
  private readonly globalDeclarations = new Map<string, string>();
  private preloadModules: string[] = [];
  private readonly history = new Map<number, HistoryCell>();
  private readonly names = new Map<string, NameEntry>();
  private readonly host: VirtualFileHost;
  private readonly registry: ts.DocumentRegistry;
  private readonly service: ts.LanguageService;
  private lastAnalysis: { code: string; analysis: CellAnalysis } | undefined;
  /** The program of the last full check, against which changed cells are checked speculatively. */
  private base: CheckBase | undefined;
  /** How many checks built (or reused) a language-service program, and how many were speculative. */
  readonly checkCounts = { full: 0, speculative: 0 };

  /**
   * @param options - the notebook directory, the kernel's `@types` folders and the
   *   declaration text of the kernel's globals.
   */
  constructor(options: LanguageServiceOptions) {
    this.cwd = toTsPath(options.cwd);
    this.kernelTypeRoots = [...options.kernelTypeRoots];
    this.globalsDts = options.globalsDts;
    this.host = new VirtualFileHost(
      () => [this.path(GLOBALS), this.path(DECLARED_GLOBALS), this.path(PRELOAD), this.path(CURRENT_CELL)],
      () => this.compilerOptions,
      () => this.cwd,
    );
    this.registry = ts.createDocumentRegistry(ts.sys.useCaseSensitiveFileNames, this.cwd);
    this.service = ts.createLanguageService(this.host, this.registry);
    this.loadConfig();
    this.writeAllFiles();
  }

  /** Switches the notebook directory: history is kept (its files move virtually) and `tsconfig.json` is reread. */
  setCwd(dir: string): void {
    this.cwd = toTsPath(dir);
    this.base = undefined;
    this.loadConfig();
    this.host.clear();
    this.writeAllFiles();
  }

  /**
   * Problems with the configuration: `tsconfig.json` errors (the defaults are used
   * then) and option errors of the resulting program (e.g. a missing `types` entry).
   */
  configErrors(): string[] {
    const errors = [...this.loadErrors];
    const program = this.service.getProgram();
    for (const diagnostic of program?.getOptionsDiagnostics() ?? []) {
      errors.push(`error TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
    }
    return errors;
  }

  /**
   * Type-checks a cell against the names of earlier committed cells. Returns syntax
   * errors if any (like `tsc`), otherwise semantic errors and warnings, sorted by position.
   * A cell that changes nothing but its own code is checked speculatively, by the last full
   * check's program (see `speculative-check.ts`), with the same result; otherwise the language
   * service builds a new program.
   */
  check(code: string): CellDiagnostic[] {
    const analysis = this.analyze(code);
    const footer = this.footer(new Set(analysis.names.map((n) => n.name))).text;
    const text = cellFileText(code, '', footer);
    const fileName = this.path(CURRENT_CELL);
    // First the last full check's program, also for the very text it checked: a commit since then
    // (a cell run) makes the language service build a new program even for unchanged text.
    const speculative = this.base?.check(code, footer, text, this.compilerOptions, this.host);
    if (speculative) {
      this.checkCounts.speculative++;
      return this.toCellDiagnostics(code, analysis, speculative.diagnostics, speculative.syntactic);
    }
    this.checkCounts.full++;
    this.host.setFile(fileName, text, code.length);
    const syntactic = this.service.getSyntacticDiagnostics(fileName);
    const diagnostics = syntactic.length > 0 ? syntactic : this.service.getSemanticDiagnostics(fileName);
    this.base = CheckBase.create(this.service.getProgram()!, fileName, footer, this.host);
    return this.toCellDiagnostics(code, analysis, diagnostics, syntactic.length > 0);
  }

  /**
   * Records a cell that ran. If it declares top-level names, it becomes the history
   * file `cell_<executionCount>.ts` and later cells see its names; otherwise it is ignored.
   * Returns whether it was recorded (then the next check builds a new program).
   */
  commit(code: string, executionCount: number): boolean {
    const analysis = analyzeCell(code);
    if (analysis.names.length === 0) return false;
    const own = new Set(analysis.names.map((n) => n.name));
    for (const [name, entry] of this.names) {
      if (entry.cell === executionCount && !own.has(name)) this.names.delete(name);
    }
    const footer = this.footer(own);
    const exported = exportedCellText(code, analysis);
    const text = `${exported}\n${footer.text}\nexport {};\n`;
    const insertions = [...analysis.exportInsertions].sort((a, b) => a - b);
    this.history.set(executionCount, { code, text, insertions, codeEnd: exported.length });
    for (const { name, kind, merged } of analysis.names) this.names.set(name, { cell: executionCount, kind, merged });
    this.host.setFile(this.cellPath(executionCount), text, exported.length);
    return true;
  }

  /**
   * Completions at `cursor` (UTF-16 offset into `code`): members after `.`, names in
   * scope (including earlier cells' and globals), keywords. Items whose name does not
   * start with the identifier before the cursor (case-insensitive) are left out.
   */
  complete(code: string, cursor: number): CompletionResult {
    cursor = Math.max(0, Math.min(cursor, code.length));
    let cursorStart = cursor;
    while (cursorStart > 0 && isIdentifierChar(code, cursorStart - 1)) cursorStart--;
    let cursorEnd = cursor;
    while (cursorEnd < code.length && isIdentifierChar(code, cursorEnd)) cursorEnd++;
    const empty: CompletionResult = { matches: [], cursorStart, cursorEnd, items: [] };

    const analysis = this.analyze(code);
    const own = new Set(analysis.names.map((n) => n.name));
    const fileName = this.setCurrentCell(code, analysis, closersFor(scanStructure(code)));
    const info = this.service.getCompletionsAtPosition(fileName, cursor, COMPLETION_PREFERENCES);
    if (!info) return empty;

    const prefix = code.slice(cursorStart, cursor).toLowerCase();
    const entries = info.entries
      .filter((e) => e.kind !== ts.ScriptElementKind.warning && e.name.toLowerCase().startsWith(prefix))
      .sort((a, b) => (a.sortText < b.sortText ? -1 : a.sortText > b.sortText ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

    let aliasTypes: Map<string, string> | undefined;
    const typeOf = (entry: ts.CompletionEntry): string => {
      if (entry.kind !== ts.ScriptElementKind.alias) return completionType(entry.kind);
      aliasTypes ??= this.aliasTypes(fileName);
      return aliasTypes.get(entry.name) ?? 'variable';
    };

    const deadline = Date.now() + SIGNATURE_BUDGET_MS;
    const items: CompletionItem[] = entries.map((entry, index) => {
      const span = entry.replacementSpan;
      const item: CompletionItem = {
        start: span ? span.start : cursorStart,
        end: span ? span.start + span.length : cursorEnd,
        text: entry.insertText ?? entry.name,
        type: typeOf(entry),
      };
      if (index < SIGNATURE_MAX_ITEMS && Date.now() < deadline && entry.kind !== ts.ScriptElementKind.keyword) {
        const details = this.service.getCompletionEntryDetails(
          fileName,
          cursor,
          entry.name,
          undefined,
          entry.source,
          COMPLETION_PREFERENCES,
          entry.data,
        );
        const signature = details ? this.asDeclared(entry.name, signatureText(details.displayParts, details.kind), own) : '';
        if (signature) item.signature = signature;
      }
      return item;
    });
    const matches = [
      ...new Set(items.filter((i) => i.start === cursorStart && i.end === cursorEnd).map((i) => i.text)),
    ];
    return { matches, cursorStart, cursorEnd, items };
  }

  /**
   * Quick info at `cursor`, or at the identifier just before it, or at the callee of
   * the call whose `(` precedes it. `plain`: signature, documentation and tags;
   * `markdown`: the signature in a TypeScript fence plus the docs. Detail level 1
   * adds the declaration's source.
   */
  inspect(code: string, cursor: number, detailLevel: 0 | 1): InspectResult {
    cursor = Math.max(0, Math.min(cursor, code.length));
    const analysis = this.analyze(code);
    const own = new Set(analysis.names.map((n) => n.name));
    const fileName = this.setCurrentCell(code, analysis, closersFor(scanStructure(code)));
    const candidates = [cursor];
    if (cursor > 0) candidates.push(cursor - 1);
    let p = cursor;
    while (p > 0 && /\s/.test(code[p - 1]!)) p--;
    if (p > 0 && (code[p - 1] === '(' || code[p - 1] === ',')) {
      // Inside a call's argument list: inspect the callee.
      let depth = 0;
      let q = p - 1;
      for (; q >= 0; q--) {
        const ch = code[q];
        if (ch === ')' || ch === ']') depth++;
        else if ((ch === '(' || ch === '[') && depth-- === 0) break;
      }
      while (q > 0 && /\s/.test(code[q - 1]!)) q--;
      if (q > 0) candidates.push(q - 1);
    }
    for (const position of candidates) {
      const info = this.service.getQuickInfoAtPosition(fileName, position);
      if (!info || !info.displayParts || info.displayParts.length === 0) continue;
      const name = code.slice(info.textSpan.start, info.textSpan.start + info.textSpan.length);
      let signature = this.asDeclared(name, signatureText(info.displayParts, info.kind), own);
      if (info.kind === ts.ScriptElementKind.alias && /^[\w$]+[(<]/.test(signature)) {
        // A call of a function from an earlier cell shows as `(alias) f(a: number): void`.
        const target = this.aliasTargetAt(fileName, position);
        if (target && target.flags & ts.SymbolFlags.Function) signature = `function ${signature}`;
      }
      const source = detailLevel >= 1 ? this.declarationSource(fileName, code, position) : undefined;
      return { found: true, ...renderDocs(signature, info.documentation, info.tags, source) };
    }
    return { found: false, plain: '', markdown: '' };
  }

  /** Whether a console should run `code` now (`complete`), wait for more (`incomplete`), or reject it (`invalid`). */
  isComplete(code: string): IsCompleteResult {
    return isCompleteCode(code);
  }

  /** Declares a global `declare var <name>: <type>;` (replacing an earlier declaration of `name`). */
  declareGlobal(name: string, type: string): void {
    this.globalDeclarations.set(name, `declare var ${name}: ${type};`);
    this.writeDeclaredGlobals();
  }

  /** Names declared by committed cells (latest declaration of each), sorted by name, with their quick-info text. */
  declaredNames(): DeclaredName[] {
    if (this.names.size === 0) return [];
    const footer = this.footer(new Set(), true);
    const base = 1; // the empty cell, then "\n"
    const fileName = this.path(CURRENT_CELL);
    this.host.setFile(fileName, `\n${footer.text}\nexport {};\n`, 0);
    const result: DeclaredName[] = [];
    for (const [name, entry] of this.names) {
      const position = footer.positions.get(name);
      const info = position === undefined ? undefined : this.service.getQuickInfoAtPosition(fileName, base + position);
      result.push({ name, kind: entry.kind, cell: entry.cell, type: info ? signatureText(info.displayParts, info.kind) : '' });
    }
    return result.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Forgets every committed cell and every {@link declareGlobal} entry. */
  reset(): void {
    for (const count of this.history.keys()) this.host.deleteFile(this.cellPath(count));
    this.history.clear();
    this.names.clear();
    this.globalDeclarations.clear();
    this.writeDeclaredGlobals();
    this.lastAnalysis = undefined;
    this.base = undefined;
  }

  /**
   * Loads the declarations of `modules` into the program ahead of use: a magic's result is
   * declared as `import("@hyperlab/magics").AdapterRun`, and the first check that sees such a
   * global would otherwise parse and bind some 600 declaration files (tfjs, the core) while the
   * user waits for the cell (2–3 s, more under load). The kernel calls this once warm, while idle.
   * A module file with type-only imports: it adds no global names, and its diagnostics are never
   * reported (only the cell's are). Then builds the program (a check of the empty cell).
   */
  preloadTypes(modules: string[]): void {
    this.preloadModules = [...new Set(modules)];
    this.writePreload();
    this.check('');
  }

  /**
   * Checks the empty cell so that the lib files are loaded, the program of the current history is
   * built and a cell that declares nothing already known can be checked speculatively.
   */
  warmUp(): void {
    this.check('');
  }

  // ---------------------------------------------------------------------------

  private path(file: string): string {
    return `${this.cwd}/${VIRTUAL_DIR}/${file}`;
  }

  private cellPath(count: number): string {
    return this.path(`cell_${count}.ts`);
  }

  private loadConfig(): void {
    const loaded = loadCompilerOptions(this.cwd, this.kernelTypeRoots);
    this.compilerOptions = loaded.options;
    this.loadErrors = loaded.errors;
  }

  private writeAllFiles(): void {
    this.host.setFile(this.path(GLOBALS), this.globalsDts);
    this.writeDeclaredGlobals();
    this.writePreload();
    this.host.setFile(this.path(CURRENT_CELL), '\nexport {};\n');
    for (const [count, cell] of this.history) this.host.setFile(this.cellPath(count), cell.text, cell.codeEnd);
  }

  private writePreload(): void {
    const lines = this.preloadModules.map((module, i) => `import type * as __preload${i} from ${JSON.stringify(module)};`);
    this.host.setFile(this.path(PRELOAD), [...lines, 'export {};', ''].join('\n'));
  }

  private writeDeclaredGlobals(): void {
    this.host.setFile(this.path(DECLARED_GLOBALS), [...this.globalDeclarations.values(), ''].join('\n'));
  }

  private analyze(code: string): CellAnalysis {
    if (this.lastAnalysis?.code !== code) this.lastAnalysis = { code, analysis: analyzeCell(code) };
    return this.lastAnalysis.analysis;
  }

  /**
   * The footer: every name of earlier cells except `exclude`, on one line starting
   * with `;`. Names are imported, grouped by cell, except plain `let`/`var` names,
   * which are declared as module variables of the same type
   * (`declare var n: typeof import("./cell_3.js").n;`) so that assigning to them is
   * allowed and still type-checked. With `importsOnly`, every name is imported.
   */
  private footer(exclude: ReadonlySet<string>, importsOnly = false): Footer {
    const byCell = new Map<number, string[]>();
    const variables: Array<[string, NameEntry]> = [];
    for (const [name, entry] of this.names) {
      if (exclude.has(name)) continue;
      if (!importsOnly && isPlainVariable(entry)) {
        variables.push([name, entry]);
        continue;
      }
      const list = byCell.get(entry.cell);
      if (list) list.push(name);
      else byCell.set(entry.cell, [name]);
    }
    // The leading `;` ends an unfinished statement of the cell (e.g. `model.`), so the imports parse.
    let text = ';';
    const positions = new Map<string, number>();
    for (const cell of [...byCell.keys()].sort((a, b) => a - b)) {
      text += 'import { ';
      byCell.get(cell)!.forEach((name, i) => {
        if (i > 0) text += ', ';
        positions.set(name, text.length);
        text += name;
      });
      text += ` } from "./cell_${cell}.js"; `;
    }
    for (const [name, entry] of variables) {
      text += 'declare var ';
      positions.set(name, text.length);
      text += `${name}: typeof import("./cell_${entry.cell}.js").${name}; `;
    }
    return { text, positions };
  }

  /** `let`/`var` names of earlier cells are declared as `var` in the footer: show them as declared. */
  private asDeclared(name: string, signature: string, own: ReadonlySet<string>): string {
    const entry = this.names.get(name);
    if (!entry || own.has(name) || !isPlainVariable(entry)) return signature;
    return signature.replace(/^var /, `${entry.kind} `);
  }

  /** Writes the current cell's file: code, closers of open constructs (if any), footer. Returns its name. */
  private setCurrentCell(code: string, analysis: CellAnalysis, closers: string): string {
    const own = new Set(analysis.names.map((n) => n.name));
    const fileName = this.path(CURRENT_CELL);
    this.host.setFile(fileName, cellFileText(code, closers, this.footer(own).text), code.length);
    return fileName;
  }

  private toCellDiagnostics(
    code: string,
    analysis: CellAnalysis,
    diagnostics: readonly ts.Diagnostic[],
    syntactic: boolean,
  ): CellDiagnostic[] {
    const starts = lineStarts(code);
    const result: Array<CellDiagnostic & { start: number; end: number }> = [];
    const seen = new Set<string>();
    for (const diagnostic of diagnostics) {
      if (diagnostic.start === undefined || MODULE_NOISE.has(diagnostic.code)) continue;
      let start = diagnostic.start;
      let end = start + (diagnostic.length ?? 0);
      if (start >= code.length) {
        // In the footer: a syntax error there means the cell left something open; otherwise noise.
        if (!syntactic || code.trim() === '') continue;
        start = end = code.length;
      }
      end = Math.min(end, code.length);
      if (UNUSED_CODES.has(diagnostic.code) && analysis.declarationStarts.has(start)) continue;
      let message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
      if (diagnostic.code === CANNOT_ASSIGN_TO_IMPORT) {
        const name = code.slice(start, end);
        const entry = this.names.get(name);
        if (entry) {
          if (entry.kind === 'let' || entry.kind === 'var') continue;
          message = `Cannot assign to '${name}' because it is ${KIND_NOUN[entry.kind] ?? 'an import'} (declared in cell [${entry.cell}]).`;
        }
      }
      const key = `${start}:${end}:${diagnostic.code}:${message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const from = lineColumn(starts, start);
      const to = lineColumn(starts, end);
      result.push({
        line: from.line,
        column: from.column,
        endLine: to.line,
        endColumn: to.column,
        code: diagnostic.code,
        category: categoryName(diagnostic.category),
        message,
        start,
        end,
      });
    }
    result.sort((a, b) => a.start - b.start || a.end - b.end || a.code - b.code);
    return result.map(({ start: _start, end: _end, ...d }) => d);
  }

  /** Completion types of the import aliases in scope of the current cell (names of earlier cells, imports). */
  private aliasTypes(fileName: string): Map<string, string> {
    const types = new Map<string, string>();
    const program = this.service.getProgram();
    const sourceFile = program?.getSourceFile(fileName);
    if (!program || !sourceFile) return types;
    const checker = program.getTypeChecker();
    for (const symbol of checker.getSymbolsInScope(sourceFile, ts.SymbolFlags.Alias)) {
      types.set(symbol.name, aliasTargetType(checker, symbol));
    }
    return types;
  }

  /** The symbol that the import alias at `position` (a name of an earlier cell) stands for. */
  private aliasTargetAt(fileName: string, position: number): ts.Symbol | undefined {
    const program = this.service.getProgram();
    const sourceFile = program?.getSourceFile(fileName);
    if (!program || !sourceFile) return undefined;
    let identifier: ts.Identifier | undefined;
    const visit = (node: ts.Node): void => {
      if (identifier || position < node.getStart(sourceFile) || position > node.end) return;
      if (ts.isIdentifier(node)) identifier = node;
      else ts.forEachChild(node, visit);
    };
    ts.forEachChild(sourceFile, visit);
    if (!identifier) return undefined;
    const checker = program.getTypeChecker();
    const symbol = checker.getSymbolAtLocation(identifier);
    if (!symbol || !(symbol.flags & ts.SymbolFlags.Alias)) return undefined;
    try {
      return checker.getAliasedSymbol(symbol);
    } catch {
      return undefined;
    }
  }

  /** Source text of the declaration of the symbol at `position`, in the cell's own words. */
  private declarationSource(fileName: string, code: string, position: number): string | undefined {
    const definition = this.service.getDefinitionAtPosition(fileName, position)?.[0];
    if (!definition) return undefined;
    const span = definition.contextSpan ?? definition.textSpan;
    let text: string | undefined;
    if (definition.fileName === fileName) {
      if (span.start + span.length > code.length) return undefined;
      text = code.slice(span.start, span.start + span.length);
    } else {
      const match = /\/cell_(\d+)\.ts$/.exec(definition.fileName);
      const cell = match && path.posix.dirname(definition.fileName) === `${this.cwd}/${VIRTUAL_DIR}` ? this.history.get(Number(match[1])) : undefined;
      if (cell) {
        const from = toCellOffset(cell.insertions, span.start);
        const to = toCellOffset(cell.insertions, span.start + span.length);
        if (to > cell.code.length) return undefined;
        text = cell.code.slice(from, to);
      } else {
        text = this.host.readFile(definition.fileName)?.slice(span.start, span.start + span.length);
      }
    }
    if (!text) return undefined;
    const lines = text.split('\n');
    return lines.length > SOURCE_MAX_LINES ? [...lines.slice(0, SOURCE_MAX_LINES), '...'].join('\n') : text;
  }
}

/** The current cell's file: the code, closers of constructs it leaves open (if any), the footer. */
function cellFileText(code: string, closers: string, footer: string): string {
  return `${code}\n${closers}${footer}\nexport {};\n`;
}

/** Maps an offset in a history file back to the cell's code, undoing the inserted `export ` keywords. */
function toCellOffset(insertions: readonly number[], offset: number): number {
  let shift = 0;
  for (const at of insertions) {
    const inserted = at + shift;
    if (offset < inserted) break;
    if (offset < inserted + EXPORT.length) return at;
    shift += EXPORT.length;
  }
  return offset - shift;
}
