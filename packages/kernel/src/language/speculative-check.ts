/**
 * Checking a changed cell against the program of an earlier check, without building a new one.
 *
 * Every edit of a file gives a `LanguageService` a new program, and every program a new type
 * checker, which merges the global declarations of every lib and `@types` file again (about
 * 160 files with `@types/node`): that, not the cell, is most of what a check costs. A cell that
 * only differs in its own code does not need any of it. Its file is parsed and bound on its
 * own, under a name of its own, and checked by the earlier program's checker, which resolves
 * the footer's imports exactly as before (the earlier file's module resolutions are lent to the
 * new path for the duration of the check) and has every type of the earlier cells and the libs
 * already resolved.
 *
 * The answer is the one a new program would give as long as nothing the earlier program read has
 * changed: the footer (names of earlier cells) is the same text, no other file has a new version
 * (virtual or real), no file has appeared where an unresolved import was looked for, the compiler
 * options are the same object, and the cell adds nothing to the program's structure (no imports of
 * its own, `/// <reference>`, global or module augmentation, `export … from`, `export as
 * namespace`). Two things a long-lived checker words differently are redone as full checks: names
 * that did not resolve (spelling suggestions are rationed per checker) and unions (printed in the
 * order the checker met their members). Otherwise {@link CheckBase.check} returns `undefined`
 * and the caller builds a new program. The equivalence is tested cell by cell against full checks
 * (`speculative-check.test.ts`).
 *
 * It uses three TypeScript internals (`bindSourceFile`, `getSetExternalModuleIndicator`,
 * `Program.resolvedModules`), present in the pinned TypeScript 5.9; without them every check is
 * a full one.
 */
import ts from 'typescript';
import { LookupWatch } from './lookup-watch.js';

interface TsInternals {
  bindSourceFile?: (file: ts.SourceFile, options: ts.CompilerOptions) => void;
  getSetExternalModuleIndicator?: (options: ts.CompilerOptions) => (file: ts.SourceFile) => void;
}

/** A module resolution as the program keeps it: the paths it tried, when it found nothing. */
interface ResolutionInternals {
  resolvedModule?: unknown;
  failedLookupLocations?: readonly string[];
}

/** TypeScript's per-file cache of resolutions by specifier and mode. */
interface ModeAwareCacheInternals {
  forEach(callback: (resolution: ResolutionInternals) => void): void;
}

interface ProgramInternals extends ts.Program {
  resolvedModules?: Map<string, ModeAwareCacheInternals>;
  getProgramDiagnostics?: (file: ts.SourceFile) => readonly ts.Diagnostic[];
}

interface SourceFileInternals extends ts.SourceFile {
  path: string;
  resolvedPath: string;
  originalFileName: string;
  parseDiagnostics: ts.DiagnosticWithLocation[];
  jsDocParsingMode?: ts.JSDocParsingMode;
}

const internals = ts as unknown as TsInternals;

/**
 * Diagnostics of a name that did not resolve. A checker offers a spelling suggestion ("Did you
 * mean …?") for at most ten such names in its lifetime, so a long-lived checker would word them
 * differently from a new one: a speculative result with any of them is redone as a full check.
 */
const UNRESOLVED_NAME_CODES = new Set(
  Object.entries((ts as unknown as { Diagnostics?: Record<string, { code: number }> }).Diagnostics ?? {})
    .filter(([key]) => /^(Cannot_find_name_0|Cannot_find_namespace_0|Could_not_find_name_0|No_value_exists_in_scope_for_the_shorthand_property|Cannot_find_global_)/.test(key))
    .map(([, message]) => message.code),
);

/**
 * A checker orders a union's members by type id, that is by when it first met each member, so a
 * long-lived checker may print `"b" | "a"` where a new one prints `"a" | "b"`: a speculative
 * result whose messages name a union is redone as a full check.
 */
function mentionsUnion(diagnostic: ts.Diagnostic): boolean {
  return ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n').includes(' | ');
}

/** Whether this TypeScript has the internals the speculative check needs. */
export const SPECULATIVE_CHECKS =
  typeof internals.bindSourceFile === 'function' && typeof internals.getSetExternalModuleIndicator === 'function' && UNRESOLVED_NAME_CODES.has(2304);

/** After this many speculative checks the base is retired, so the memory its checker keeps for them is freed. */
const MAX_USES = 200;

/** What a base needs from the language service host. */
export interface VersionSource {
  getScriptVersion(fileName: string): string;
  /** Files whose content may change while the kernel runs (virtual files, the user's own sources). */
  isWatched(fileName: string): boolean;
}

/** The result of a check: syntax errors (then nothing else), or semantic diagnostics. */
export interface CheckOutcome {
  diagnostics: readonly ts.Diagnostic[];
  syntactic: boolean;
}

/** The program of a full check, kept to check later cells speculatively. */
export class CheckBase {
  private uses = 0;
  private serial = 0;

  private constructor(
    private readonly program: ProgramInternals,
    private readonly file: SourceFileInternals,
    private readonly footer: string,
    private readonly watched: ReadonlyArray<readonly [string, string]>,
    private readonly failedLookups: LookupWatch,
  ) {}

  /**
   * A base from the program that just checked `fileName`, whose footer was `footer`; `undefined`
   * when this program cannot serve as one.
   */
  static create(program: ts.Program, fileName: string, footer: string, versions: VersionSource): CheckBase | undefined {
    if (!SPECULATIVE_CHECKS) return undefined;
    const internal = program as ProgramInternals;
    const file = program.getSourceFile(fileName) as SourceFileInternals | undefined;
    if (!file || !(internal.resolvedModules instanceof Map) || typeof internal.getProgramDiagnostics !== 'function') return undefined;
    // Program-level diagnostics of the cell file would not carry over to another file name.
    if (internal.getProgramDiagnostics(file).length > 0) return undefined;
    const watched: Array<readonly [string, string]> = [];
    for (const source of program.getSourceFiles()) {
      if (source !== file && versions.isWatched(source.fileName)) watched.push([source.fileName, versions.getScriptVersion(source.fileName)]);
    }
    // Where unresolved imports were looked for: a file appearing there (the user writes it, or
    // installs the package) would resolve the import in a new program.
    const failedLookups = new Set<string>();
    for (const resolutions of internal.resolvedModules.values()) {
      resolutions.forEach((resolution) => {
        if (resolution.resolvedModule) return;
        for (const location of resolution.failedLookupLocations ?? []) failedLookups.add(location);
      });
    }
    return new CheckBase(internal, file, footer, watched, new LookupWatch(failedLookups, (location) => ts.sys.fileExists(location)));
  }

  /** Whether the base still describes the files and options a new program would read. */
  private current(options: ts.CompilerOptions, versions: VersionSource): boolean {
    if (this.uses >= MAX_USES || this.program.getCompilerOptions() !== options) return false;
    if (!this.watched.every(([fileName, version]) => versions.getScriptVersion(fileName) === version)) return false;
    return !this.failedLookups.appeared();
  }

  /**
   * Checks the cell file text `text` (cell `code`, then `footer`) as a new program would, or
   * returns `undefined` when only a new program can.
   */
  check(code: string, footer: string, text: string, options: ts.CompilerOptions, versions: VersionSource): CheckOutcome | undefined {
    // `import` anywhere (declarations, import types, `import()`, `import.meta`) may need a resolution the base lacks.
    if (footer !== this.footer || code.includes('import') || !this.current(options, versions)) return undefined;
    const name = this.file.fileName.replace(/\.ts$/, `.${++this.serial}.ts`);
    const file = ts.createSourceFile(
      name,
      text,
      {
        languageVersion: this.file.languageVersion,
        impliedNodeFormat: this.file.impliedNodeFormat,
        setExternalModuleIndicator: internals.getSetExternalModuleIndicator!(options),
        jsDocParsingMode: this.file.jsDocParsingMode,
      },
      false,
      ts.ScriptKind.TS,
    ) as SourceFileInternals;
    if (file.parseDiagnostics.length > 0) {
      this.uses++;
      return { diagnostics: ts.sortAndDeduplicateDiagnostics(file.parseDiagnostics), syntactic: true };
    }
    if (changesProgramStructure(file)) return undefined;
    file.path = this.file.path.replace(/\.ts$/, `.${this.serial}.ts`);
    file.resolvedPath = file.path;
    file.originalFileName = name;
    const resolutions = this.program.resolvedModules!;
    const lent = resolutions.get(this.file.path);
    if (lent) resolutions.set(file.path, lent);
    try {
      internals.bindSourceFile!(file, options);
      this.uses++;
      const diagnostics = this.program.getSemanticDiagnostics(file);
      if (diagnostics.some((diagnostic) => UNRESOLVED_NAME_CODES.has(diagnostic.code) || mentionsUnion(diagnostic))) return undefined;
      return { diagnostics, syntactic: false };
    } finally {
      resolutions.delete(file.path);
    }
  }
}

/** Statements that add to what the program contains or resolves, which a checked-only file cannot. */
function changesProgramStructure(file: SourceFileInternals): boolean {
  if (file.referencedFiles.length || file.typeReferenceDirectives.length || file.libReferenceDirectives.length) return true;
  return file.statements.some(
    (statement) =>
      (ts.isModuleDeclaration(statement) && (ts.isStringLiteral(statement.name) || (statement.flags & ts.NodeFlags.GlobalAugmentation) !== 0)) ||
      ts.isNamespaceExportDeclaration(statement) ||
      (ts.isExportDeclaration(statement) && statement.moduleSpecifier !== undefined),
  );
}
