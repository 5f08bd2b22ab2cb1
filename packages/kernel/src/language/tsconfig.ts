/**
 * Compiler options of the notebook: kernel defaults, overridden by the
 * notebook directory's `tsconfig.json` where that makes sense for cells.
 */
import * as path from 'node:path';
import ts from 'typescript';

/** Compiler options plus the problems met while reading `tsconfig.json`. */
export interface LoadedCompilerOptions {
  options: ts.CompilerOptions;
  /** Human-readable errors; when non-empty, `options` are the defaults. */
  errors: string[];
  /** Path of the `tsconfig.json` that was read, if any. */
  configFile?: string;
}

/** Options of a user's tsconfig that make no sense for notebook cells (emit, project layout). */
const IGNORED_OPTIONS: ReadonlyArray<keyof ts.CompilerOptions> = [
  'noEmit',
  'declaration',
  'outDir',
  'rootDir',
  'composite',
  'incremental',
  // Emit-only options that would otherwise produce option errors once the above are dropped.
  'declarationDir',
  'declarationMap',
  'emitDeclarationOnly',
  'isolatedDeclarations',
  'tsBuildInfoFile',
  'outFile',
  'out',
  'sourceMap',
  'inlineSourceMap',
  'inlineSources',
  'noEmitOnError',
  'rootDirs',
];

const ES_MODULES = new Set<ts.ModuleKind>([ts.ModuleKind.ESNext, ts.ModuleKind.ES2022, ts.ModuleKind.Preserve]);
const RESOLUTIONS = new Set<ts.ModuleResolutionKind>([
  ts.ModuleResolutionKind.Bundler,
  ts.ModuleResolutionKind.Node16,
  ts.ModuleResolutionKind.NodeNext,
]);

/** Normalizes a path to TypeScript's form (absolute, forward slashes). */
export function toTsPath(p: string): string {
  return path.resolve(p).replace(/\\/g, '/');
}

/** The kernel's defaults for a notebook in `cwd`. */
export function defaultCompilerOptions(cwd: string, kernelTypeRoots: readonly string[]): ts.CompilerOptions {
  const typeRoots: string[] = [];
  const local = toTsPath(path.join(cwd, 'node_modules', '@types'));
  if (ts.sys.directoryExists(local)) typeRoots.push(local);
  for (const root of kernelTypeRoots) {
    const normalized = toTsPath(root);
    if (!typeRoots.includes(normalized)) typeRoots.push(normalized);
  }
  return {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    esModuleInterop: true,
    skipLibCheck: true,
    allowJs: false,
    resolveJsonModule: true,
    lib: ['lib.es2022.d.ts'],
    types: ['node'],
    typeRoots,
    noEmit: true,
  };
}

function formatConfigDiagnostic(diagnostic: ts.Diagnostic): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  if (diagnostic.file && diagnostic.start !== undefined) {
    const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    return `${diagnostic.file.fileName}(${line + 1},${character + 1}): error TS${diagnostic.code}: ${message}`;
  }
  return `error TS${diagnostic.code}: ${message}`;
}

/** Reading the config must not enumerate the user's files: only its options matter. */
const configHost: ts.ParseConfigHost = {
  useCaseSensitiveFileNames: ts.sys.useCaseSensitiveFileNames,
  fileExists: (f) => ts.sys.fileExists(f),
  readFile: (f) => ts.sys.readFile(f),
  readDirectory: () => [],
};

/** "No inputs were found in config file": expected, since {@link configHost} lists no files. */
const NO_INPUTS = 18003;

/**
 * Reads `<cwd>/tsconfig.json` (following `extends`) over the defaults.
 * User options win, except emit/layout options, and `module`/`moduleResolution`,
 * which are kept only when `module` is ESNext/ES2022/Preserve (and the resolution
 * Bundler/Node16/NodeNext); otherwise the defaults stay. `lib` and
 * `typeRoots` are merged with the defaults. Never throws: errors are returned
 * and the defaults are used.
 */
export function loadCompilerOptions(cwd: string, kernelTypeRoots: readonly string[]): LoadedCompilerOptions {
  const defaults = defaultCompilerOptions(cwd, kernelTypeRoots);
  const configFile = toTsPath(path.join(cwd, 'tsconfig.json'));
  if (!ts.sys.fileExists(configFile)) return { options: defaults, errors: [] };
  try {
    const read = ts.readConfigFile(configFile, (f) => ts.sys.readFile(f));
    if (read.error) return { options: defaults, errors: [formatConfigDiagnostic(read.error)], configFile };
    const parsed = ts.parseJsonConfigFileContent(read.config, configHost, path.dirname(configFile), undefined, configFile);
    const errors = parsed.errors.filter((d) => d.code !== NO_INPUTS).map(formatConfigDiagnostic);
    if (errors.length > 0) return { options: defaults, errors, configFile };
    return { options: mergeOptions(defaults, parsed.options), errors: [], configFile };
  } catch (error) {
    return { options: defaults, errors: [`${configFile}: ${(error as Error).message}`], configFile };
  }
}

function mergeOptions(defaults: ts.CompilerOptions, user: ts.CompilerOptions): ts.CompilerOptions {
  const options: ts.CompilerOptions = { ...defaults, ...user };
  for (const key of IGNORED_OPTIONS) delete options[key];
  options.noEmit = true;
  delete options.configFilePath;

  // module / moduleResolution: the user's only for ES-module kinds (cells use top-level
  // await and `import`) with a resolution that understands the footer's `./cell_<n>.js`.
  options.module = defaults.module;
  options.moduleResolution = defaults.moduleResolution;
  if (user.module !== undefined && ES_MODULES.has(user.module)) {
    options.module = user.module;
    if (user.moduleResolution !== undefined && RESOLUTIONS.has(user.moduleResolution)) {
      options.moduleResolution = user.moduleResolution;
    }
  }

  const lib = new Set([...(defaults.lib ?? []), ...(user.lib ?? [])]);
  options.lib = [...lib];
  const typeRoots = [...(user.typeRoots ?? []), ...(defaults.typeRoots ?? [])].map(toTsPath);
  options.typeRoots = [...new Set(typeRoots)];
  return options;
}
