/**
 * A `LanguageServiceHost` over virtual files layered on the real file system.
 * Virtual files (cells, global declarations) are never written to disk.
 */
import * as path from 'node:path';
import ts from 'typescript';
import { LookupWatch } from './lookup-watch.js';

/** A file in the kernel's own package: bare imports the notebook's folder cannot resolve are retried from here. */
const KERNEL_FILE = path.resolve(__dirname, '..', '..', '__kernel__.ts').split(path.sep).join('/');

interface VirtualFile {
  text: string;
  version: string;
  snapshot: ts.IScriptSnapshot;
  /** Offset where the user's code ends and the kernel's footer begins. */
  codeEnd: number;
}

/** A file name as TypeScript's `Path` spells it (lower case where file names are case-insensitive). */
function pathKey(fileName: string): string {
  return ts.sys.useCaseSensitiveFileNames ? fileName : fileName.toLowerCase();
}

/** A file name in the notebook's directory from which the user's own imports are resolved. */
const NOTEBOOK_FILE = '__hyperlab_notebook__.ts';

/**
 * Serves virtual files first, then the real file system (`ts.sys`).
 * A virtual file's script version changes only when its text changes, so the
 * language service keeps the same program for identical requests.
 */
export class VirtualFileHost implements ts.LanguageServiceHost {
  private readonly files = new Map<string, VirtualFile>();
  private readonly virtualDirs = new Set<string>();
  private versionCounter = 0;
  /** Snapshots of real files by script version: the language service asks for every file's snapshot on every update. */
  private readonly realSnapshots = new Map<string, { version: string; snapshot: ts.IScriptSnapshot }>();
  private cache: { generation: number; options: ts.CompilerOptions; cache: ts.ModuleResolutionCache } | undefined;
  /** Bumped when resolutions may have changed: a virtual file added or removed, or a file where an unresolved import was looked for appeared. */
  private resolutionGeneration = 0;
  /**
   * For each file with imports that did not resolve (by {@link pathKey}), every path where they
   * were looked for, watched through their folders: @types/node's undici-types alone import node
   * built-ins (ambient modules, so "unresolved" here) from 25 files, looked for at ~6,000 places,
   * and testing each place on every module resolution made a program with tfjs's declarations
   * take seconds of `stat` calls.
   */
  private readonly failedLookups = new Map<string, LookupWatch>();
  /** All of {@link failedLookups} in one watch, rebuilt when they change. */
  private allFailedLookups: LookupWatch | undefined;
  private readonly libDir = path.dirname(ts.getDefaultLibFilePath({})).replace(/\\/g, '/');

  /**
   * @param rootFiles - returns the program's root file names (virtual or real).
   * @param settings - returns the current compiler options.
   * @param cwd - returns the current directory.
   */
  constructor(
    private readonly rootFiles: () => string[],
    private readonly settings: () => ts.CompilerOptions,
    private readonly cwd: () => string,
  ) {}

  /**
   * Creates or updates a virtual file; its version changes only if `text` differs.
   * Module specifiers before `codeEnd` are the user's and resolve from the notebook's
   * directory (so `./utils` means `<cwd>/utils`); later ones (the footer's
   * `./cell_<n>.js`) resolve from the virtual folder.
   */
  setFile(fileName: string, text: string, codeEnd = text.length): void {
    const existing = this.files.get(fileName);
    if (existing && existing.text === text && existing.codeEnd === codeEnd) return;
    if (!existing) this.invalidateResolutions();
    this.files.set(fileName, {
      text,
      version: String(++this.versionCounter),
      snapshot: ts.ScriptSnapshot.fromString(text),
      codeEnd,
    });
    this.addVirtualDir(path.posix.dirname(fileName));
  }

  /** Text of a virtual file, if there is one. */
  getFile(fileName: string): string | undefined {
    return this.files.get(fileName)?.text;
  }

  /** Removes a virtual file. */
  deleteFile(fileName: string): void {
    if (this.files.delete(fileName)) this.invalidateResolutions();
  }

  /** Removes every virtual file and folder. */
  clear(): void {
    this.files.clear();
    this.virtualDirs.clear();
    this.realSnapshots.clear();
    this.failedLookups.clear();
    this.allFailedLookups = undefined;
    this.invalidateResolutions();
  }

  private invalidateResolutions(): void {
    this.resolutionGeneration++;
  }

  /**
   * Whether a file now exists where one of `fileName`'s unresolved imports was looked for (the
   * user wrote it, or installed the package); then the resolution cache is renewed too. Without
   * this, a program keeps the unresolved imports of unchanged files (such as earlier cells) forever.
   * (A property: TypeScript calls it unbound.)
   */
  readonly hasInvalidatedResolutions = (fileName: string): boolean => {
    if (!this.failedLookups.get(pathKey(fileName))?.appeared()) return false;
    this.invalidateResolutions();
    return true;
  };

  /** Whether a file appeared at any place where an import of any file was looked for in vain. */
  private anyFailedLookupAppeared(): boolean {
    if (!this.allFailedLookups) {
      const locations = new Set<string>();
      for (const watch of this.failedLookups.values()) for (const location of watch.locations) locations.add(location);
      this.allFailedLookups = new LookupWatch(locations, (location) => ts.sys.fileExists(location));
    }
    if (!this.allFailedLookups.appeared()) return false;
    this.invalidateResolutions();
    return true;
  }

  private addVirtualDir(dir: string): void {
    this.virtualDirs.add(dir);
  }

  private isVirtualDir(dir: string): boolean {
    const normalized = dir.replace(/\\/g, '/').replace(/\/+$/, '');
    return this.virtualDirs.has(normalized);
  }

  /** Real files that may change while the kernel runs (the user's own sources). */
  private isMutableRealFile(fileName: string): boolean {
    return !fileName.includes('/node_modules/') && !fileName.startsWith(this.libDir);
  }

  /** Files whose script version can change while the kernel runs: the virtual files and the user's own sources. */
  isWatched(fileName: string): boolean {
    return this.files.has(fileName) || this.isMutableRealFile(fileName);
  }

  getScriptFileNames(): string[] {
    return this.rootFiles();
  }

  getScriptVersion(fileName: string): string {
    const file = this.files.get(fileName);
    if (file) return file.version;
    if (!this.isMutableRealFile(fileName)) return '0';
    return String(ts.sys.getModifiedTime?.(fileName)?.getTime() ?? 0);
  }

  getScriptSnapshot(fileName: string): ts.IScriptSnapshot | undefined {
    const file = this.files.get(fileName);
    if (file) return file.snapshot;
    const version = this.getScriptVersion(fileName);
    const cached = this.realSnapshots.get(fileName);
    if (cached && cached.version === version) return cached.snapshot;
    const text = ts.sys.readFile(fileName);
    if (text === undefined) {
      this.realSnapshots.delete(fileName);
      return undefined;
    }
    const snapshot = ts.ScriptSnapshot.fromString(text);
    this.realSnapshots.set(fileName, { version, snapshot });
    return snapshot;
  }

  getCurrentDirectory(): string {
    return this.cwd();
  }

  getCompilationSettings(): ts.CompilerOptions {
    return this.settings();
  }

  getDefaultLibFileName(options: ts.CompilerOptions): string {
    return ts.getDefaultLibFilePath(options);
  }

  getNewLine(): string {
    return '\n';
  }

  useCaseSensitiveFileNames(): boolean {
    return ts.sys.useCaseSensitiveFileNames;
  }

  fileExists(fileName: string): boolean {
    return this.files.has(fileName) || ts.sys.fileExists(fileName);
  }

  readFile(fileName: string, encoding?: string): string | undefined {
    const file = this.files.get(fileName);
    return file ? file.text : ts.sys.readFile(fileName, encoding);
  }

  directoryExists(directoryName: string): boolean {
    return this.isVirtualDir(directoryName) || ts.sys.directoryExists(directoryName);
  }

  getDirectories(directoryName: string): string[] {
    return this.isVirtualDir(directoryName) ? [] : ts.sys.getDirectories(directoryName);
  }

  readDirectory(
    directoryName: string,
    extensions?: readonly string[],
    exclude?: readonly string[],
    include?: readonly string[],
    depth?: number,
  ): string[] {
    return ts.sys.readDirectory(directoryName, extensions, exclude, include, depth);
  }

  resolveModuleNameLiterals(
    moduleLiterals: readonly ts.StringLiteralLike[],
    containingFile: string,
    redirectedReference: ts.ResolvedProjectReference | undefined,
    options: ts.CompilerOptions,
    containingSourceFile: ts.SourceFile,
  ): readonly ts.ResolvedModuleWithFailedLookupLocations[] {
    const cache = this.resolutionCache(options);
    const virtual = this.files.get(containingFile);
    const notebookFile = `${this.cwd().replace(/\/+$/, '')}/${NOTEBOOK_FILE}`;
    const failed: string[] = [];
    const resolutions = moduleLiterals.map((literal) => {
      const from = virtual && literal.end <= virtual.codeEnd ? notebookFile : containingFile;
      const mode = ts.getModeForUsageLocation(containingSourceFile, literal, options);
      const resolved = ts.resolveModuleName(literal.text, from, options, this, cache, redirectedReference, mode);
      if (resolved.resolvedModule) return resolved;
      // Like the executor, fall back to the kernel's own packages for bare specifiers.
      const fallback = ts.isExternalModuleNameRelative(literal.text) ? resolved : ts.resolveModuleName(literal.text, KERNEL_FILE, options, this, undefined, redirectedReference, mode);
      if (fallback.resolvedModule) return fallback;
      failed.push(...((resolved as { failedLookupLocations?: readonly string[] }).failedLookupLocations ?? []));
      return resolved;
    });
    const key = pathKey(containingFile);
    const before = this.failedLookups.get(key);
    if (failed.length > 0) {
      if (!before || !sameStrings(before.locations, failed)) {
        this.failedLookups.set(key, new LookupWatch(failed, (location) => ts.sys.fileExists(location)));
        this.allFailedLookups = undefined;
      }
    } else if (before) {
      this.failedLookups.delete(key);
      this.allFailedLookups = undefined;
    }
    return resolutions;
  }

  /** The program's resolution cache (its package.json cache decides each file's module format). */
  getModuleResolutionCache(): ts.ModuleResolutionCache {
    return this.resolutionCache(this.settings());
  }

  /**
   * One module resolution cache for as long as resolutions cannot have changed: it is renewed
   * when the options change, a virtual file is added or removed, or a file appears where an
   * unresolved import was looked for (so the import is retried). Editing the current cell keeps
   * it, which keeps checks of a changed cell cheap.
   */
  private resolutionCache(options: ts.CompilerOptions): ts.ModuleResolutionCache {
    this.anyFailedLookupAppeared();
    const current = this.cache;
    if (current && current.generation === this.resolutionGeneration && current.options === options) return current.cache;
    const cwd = this.cwd();
    const caseSensitive = ts.sys.useCaseSensitiveFileNames;
    const cache = ts.createModuleResolutionCache(cwd, (f) => (caseSensitive ? f : f.toLowerCase()), options);
    this.cache = { generation: this.resolutionGeneration, options, cache };
    return cache;
  }

  realpath(fileName: string): string {
    if (this.files.has(fileName) || this.isVirtualDir(path.posix.dirname(fileName))) return fileName;
    return ts.sys.realpath ? ts.sys.realpath(fileName) : fileName;
  }
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
