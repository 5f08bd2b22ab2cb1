/**
 * The executor worker: the realm where notebook cells run. The main thread sends compiled cells;
 * this side evaluates them in its own global scope (shared with the packages cells import, so
 * `instanceof` and typed arrays work across cells and libraries), captures output, and reports
 * values and errors. A synchronous loop here never blocks the kernel's sockets, and the main
 * thread can stop it through the inspector without losing any variable.
 */
import { parentPort } from 'node:worker_threads';
import * as vm from 'node:vm';
import { inspect } from 'node:util';
import { pathToFileURL } from 'node:url';
import * as path from 'node:path';
import { MIMEBUNDLE, bundles, toDisplayData, type DisplayData } from '../display/format.js';
import { DEFAULT_EXTENSIONS, MagicRegistry, UnknownMagicError, registerExtension, type MagicContext } from '../magics/registry.js';
import { registerBuiltins, runShell } from '../magics/builtins.js';
import { splitArgs } from '../magics/parser.js';
import { Rpc, type RpcRequest } from '../worker-rpc.js';
import { CommManager } from './comms.js';
import { importDefault, importModule } from './imports.js';
import type { CompiledCell } from './transform.js';
import type { DoneMessage, ExtensionLoad, FromWorker, ToWorker, WorkerError } from './messages.js';
import { OutputChannel } from './output.js';

if (!parentPort) throw new Error('executor/worker.js must run in a worker thread');
const port = parentPort;
const post = (message: FromWorker): void => port.postMessage(message);
const output = new OutputChannel(post);
const rpc = new Rpc(port);
const comms = new CommManager((message) => output.send(message));
const registry = new MagicRegistry();
const declared = new Set<string>();
const KEYBOARD_INTERRUPT = 'KeyboardInterrupt';

/** The cell being run now, so an interrupt can end it even if its stack was torn down. */
let current: { id: number; interrupt: (error: Error) => void; controller: AbortController } | undefined;
let nestedCounter = 0;
let executionCount = 0;

function serializeError(error: unknown): WorkerError {
  if (error instanceof Error || (error !== null && typeof error === 'object' && 'stack' in error && 'message' in error)) {
    const e = error as Error;
    const ename = e.name && e.name !== 'Error' ? e.name : e.constructor?.name && e.constructor.name !== 'Object' ? e.constructor.name : 'Error';
    return { ename, evalue: String(e.message), stack: String(e.stack ?? `${ename}: ${e.message}`) };
  }
  const evalue = inspect(error, { depth: 2, colors: false });
  return { ename: 'Uncaught', evalue, stack: `Uncaught ${evalue}` };
}

function interruptError(): Error {
  const error = new Error('Interrupted by the user; every variable is kept.');
  error.name = KEYBOARD_INTERRUPT;
  return error;
}

function showBundle(display: DisplayData, options: { id?: string; update?: boolean } = {}, maker?: (value: string) => DisplayData): DisplayHandle {
  const handle = new DisplayHandle(options.id ?? `hl-${Math.random().toString(36).slice(2)}`, maker);
  output.send({ type: 'display', display, displayId: handle.id, update: options.update ?? false });
  return handle;
}

/** A displayed output that can be replaced in place later. */
class DisplayHandle {
  /** `maker` is the display.html/markdown/… helper that made the output: a string update reuses it. */
  constructor(readonly id: string, private readonly maker?: (value: string) => DisplayData) {}
  private bundle(value: unknown): DisplayData {
    return typeof value === 'string' && this.maker ? this.maker(value) : asBundle(value);
  }
  /** Replaces the output with a new value (a string stays HTML/Markdown/… if the output was). */
  update(value: unknown): void {
    showBundle(this.bundle(value), { id: this.id, update: true }, this.maker);
  }
  /** Shows another output with the same id (updates then change both). */
  display(value: unknown): void {
    showBundle(this.bundle(value), { id: this.id }, this.maker);
  }
}

/** The bundle for a value; the display.html/… helpers' results carry their own MIME bundle. */
function asBundle(value: unknown): DisplayData {
  return toDisplayData(value);
}

type DisplayOptions = { id?: string; update?: boolean };
type BundleMaker = (...args: never[]) => DisplayData;

/** The `display` global: show values and MIME bundles, update them in place. */
function makeDisplay(): ((value: unknown, options?: DisplayOptions) => DisplayHandle) & Record<string, unknown> {
  const display = ((value: unknown, options?: DisplayOptions) => showBundle(asBundle(value), options)) as ((value: unknown, options?: DisplayOptions) => DisplayHandle) &
    Record<string, unknown>;
  for (const [name, make] of Object.entries(bundles) as Array<[string, BundleMaker]>) {
    display[name] = (...args: unknown[]) => {
      const last = args[args.length - 1] as DisplayOptions | undefined;
      const options = last && typeof last === 'object' && ('id' in last || 'update' in last) ? last : {};
      const maker = ['html', 'markdown', 'svg', 'latex', 'text'].includes(name) ? (value: string) => make(value as never) : undefined;
      return showBundle(make(...(args as never[])), options, maker);
    };
  }
  display.update = (id: string, value: unknown) => showBundle(asBundle(value), { id, update: true });
  display.bundle = (data: Record<string, unknown>, metadata: Record<string, unknown> = {}, options?: DisplayOptions) => showBundle({ data, metadata }, options);
  return display;
}

async function ask(prompt: unknown, password: boolean): Promise<string> {
  output.flush();
  return rpc.request<string>('input', { prompt: prompt === undefined ? '' : String(prompt), password });
}

/** Compiles TypeScript through the main thread's language service. */
async function compile(code: string, lineOffset = 0): Promise<{ cell: CompiledCell; filename: string }> {
  const filename = `Cell[${executionCount}.${++nestedCounter}]`;
  const cell = await rpc.request<CompiledCell>('compile', { code, filename, lineOffset });
  return { cell, filename };
}

function evaluate(cell: CompiledCell, filename: string): Promise<unknown> {
  const result = vm.runInThisContext(cell.js, { filename, displayErrors: false }) as Promise<unknown>;
  for (const name of cell.declared) declared.add(name);
  return result;
}

function magicContext(args: string, line: number, body = ''): MagicContext {
  const controller = current?.controller ?? new AbortController();
  return {
    args,
    argv: splitArgs(args),
    body,
    line,
    print: (text) => output.write('stdout', `${text}\n`),
    printError: (text) => output.write('stderr', `${text}\n`),
    display: (value, options) => showBundle(asBundle(value), { id: options?.displayId, update: options?.update }).id,
    runCode: async (code) => {
      const { cell, filename } = await compile(code, line - 1);
      return evaluate(cell, filename);
    },
    kernel: (method, params) => rpc.request(method, params ?? {}),
    setGlobal: async (name, value, type) => {
      (globalThis as Record<string, unknown>)[name] = value;
      declared.add(name);
      await rpc.request('declare', { name, type: type ?? 'any' });
    },
    signal: controller.signal,
    registry,
  };
}

/** The runtime object that rewritten cells call (`__hl.import`, `__hl.lineMagic`, …). */
const runtime = {
  import: (specifier: string) => importModule(specifier, process.cwd()),
  importDefault,
  get importMeta() {
    return { url: pathToFileURL(path.join(process.cwd(), 'notebook.ts')).href };
  },
  async lineMagic(name: string, args: string, line: number): Promise<unknown> {
    const magic = registry.lineMagic(name);
    if (!magic) throw new UnknownMagicError(name, 'line', registry.suggest(name, 'line'), line);
    const ctx = magicContext(args, line);
    return magic.kind === 'code' ? magic.run(ctx, async () => undefined) : magic.run(ctx);
  },
  async codeMagic(name: string, flags: string, code: () => Promise<unknown>): Promise<unknown> {
    const magic = registry.lineMagic(name);
    if (!magic) throw new UnknownMagicError(name, 'line', registry.suggest(name, 'line'), 0);
    const ctx = magicContext(flags, 0);
    return magic.kind === 'code' ? magic.run(ctx, code) : magic.run(ctx);
  },
  async shell(command: string): Promise<void> {
    output.flush();
    const code = await runShell(command, magicContext(command, 0), (name, text) => output.write(name, text));
    if (code !== 0) output.write('stderr', `[exit code ${code}]\n`);
  },
};

function installGlobals(): void {
  const g = globalThis as Record<string, unknown>;
  const define = (name: string, value: unknown): void => {
    Object.defineProperty(g, name, { value, writable: true, configurable: true, enumerable: false });
  };
  define('__hl', runtime);
  define('display', makeDisplay());
  define('clearOutput', (wait = false) => output.send({ type: 'clear', wait: Boolean(wait) }));
  define('input', (prompt?: unknown) => ask(prompt, false));
  define('password', (prompt?: unknown) => ask(prompt, true));
  define('comms', comms);
  define('MIMEBUNDLE', MIMEBUNDLE);
  define('require', require('node:module').createRequire(path.join(process.cwd(), '__hyperlab_cell__.js')));
  process.exit = ((code?: number) => {
    throw new Error(`process.exit(${code ?? ''}) would stop the kernel; use "Restart Kernel" instead (every variable is kept otherwise)`);
  }) as typeof process.exit;
}

function report(done: DoneMessage): void {
  output.send(done);
}

async function runCell(id: number, silent: boolean, body: () => Promise<unknown>, hasValue: boolean): Promise<void> {
  const controller = new AbortController();
  let interrupt!: (error: Error) => void;
  const interrupted = new Promise<never>((_, reject) => {
    interrupt = reject;
  });
  interrupted.catch(() => undefined);
  current = { id, interrupt, controller };
  try {
    const value = await Promise.race([body(), interrupted]);
    if (current?.id !== id) return;
    current = undefined;
    // A display call's handle is not shown as the cell's value (IPython's display() returns None).
    const show = hasValue && value !== undefined && !(value instanceof DisplayHandle) && !silent;
    report({ type: 'done', id, status: 'ok', value: show ? asBundle(value) : undefined });
  } catch (error) {
    if (current?.id !== id) return;
    current = undefined;
    const isInterrupt = error instanceof Error && error.name === KEYBOARD_INTERRUPT;
    report({ type: 'done', id, status: isInterrupt ? 'interrupted' : 'error', error: serializeError(error) });
  }
}

/** Ends the current cell as interrupted, whether or not its stack still exists. */
function interruptCurrent(): void {
  const cell = current;
  if (cell) {
    cell.controller.abort();
    cell.interrupt(interruptError());
    // If the stack that awaited `interrupted` was torn down by the inspector, report here.
    setImmediate(() => {
      if (current?.id === cell.id) {
        current = undefined;
        report({ type: 'done', id: cell.id, status: 'interrupted', error: serializeError(interruptError()) });
      }
    });
  }
  post({ type: 'interrupt-ack' });
}

async function evaluateExpressions(id: number, expressions: Record<string, string>): Promise<void> {
  const results: NonNullable<DoneMessage['expressions']> = {};
  for (const [key, js] of Object.entries(expressions)) {
    try {
      const value = await (vm.runInThisContext(js, { filename: `user_expressions[${key}]` }) as Promise<unknown>);
      const bundle = asBundle(value);
      results[key] = { status: 'ok', data: bundle.data, metadata: bundle.metadata };
    } catch (error) {
      results[key] = { status: 'error', ...serializeError(error) };
    }
  }
  report({ type: 'done', id, status: 'ok', expressions: results });
}

const builtinHost = {
  declaredNames: () => [...declared].filter((name) => name in globalThis),
  valueOf: (name: string) => (globalThis as Record<string, unknown>)[name],
  resetNamespace: () => {
    let removed = 0;
    for (const name of declared) {
      if (name in globalThis && delete (globalThis as Record<string, unknown>)[name]) removed++;
    }
    declared.clear();
    return removed;
  },
  importModule: (specifier: string) => importModule(specifier, process.cwd()),
  compile: async (code: string) => {
    const { cell, filename } = await compile(code);
    const script = new vm.Script(cell.js, { filename });
    return () => script.runInThisContext() as Promise<unknown>;
  },
};

port.on('message', (message: ToWorker) => {
  if (rpc.settle(message)) return;
  switch (message.type) {
    case 'run':
      executionCount = message.executionCount;
      nestedCounter = 0;
      void runCell(message.id, message.silent, () => evaluate(message as unknown as CompiledCell, message.filename), message.hasValue);
      break;
    case 'cell-magic': {
      executionCount = message.executionCount;
      nestedCounter = 0;
      const magic = registry.cellMagic(message.name);
      void runCell(
        message.id,
        message.silent,
        async () => {
          if (!magic) throw new UnknownMagicError(message.name, 'cell', registry.suggest(message.name, 'cell'), 1);
          return magic.run(magicContext(message.args, message.bodyLine, message.body));
        },
        true,
      );
      break;
    }
    case 'expressions':
      void evaluateExpressions(message.id, message.expressions);
      break;
    case 'interrupt':
      interruptCurrent();
      break;
    case 'comm':
      try {
        comms.receive(message);
      } catch (error) {
        output.write('stderr', `comm handler failed: ${serializeError(error).stack}\n`);
      }
      if (message.id !== undefined) report({ type: 'done', id: message.id, status: 'ok' });
      break;
    case 'request':
      void rpc.answer(message as unknown as RpcRequest, (method) => {
        throw new Error(`the executor has no method ${method}`);
      });
      break;
  }
});

process.on('uncaughtException', (error) => {
  output.write('stderr', `Uncaught exception (outside any cell): ${serializeError(error).stack}\n`);
});
process.on('unhandledRejection', (reason) => {
  output.write('stderr', `Unhandled promise rejection: ${serializeError(reason).stack}\n`);
});

output.install();
installGlobals();
registerBuiltins(registry, builtinHost);
const magicNames = () => ({
  code: registry.codeMagicNames(),
  line: registry.list('line').map((magic) => magic.name),
  cell: registry.list('cell').map((magic) => magic.name),
});

/**
 * The magics packages every session starts with, as if each were `%load_ext`-ed: the
 * comma-separated `HYPERLAB_EXTENSIONS` (empty for none), by default `@hyperlab/magics`. A package
 * that cannot be found or fails to register is reported to the kernel's log, never fatal.
 */
async function loadDefaultExtensions(): Promise<ExtensionLoad[]> {
  const names = (process.env.HYPERLAB_EXTENSIONS ?? DEFAULT_EXTENSIONS).split(',').map((name) => name.trim()).filter(Boolean);
  const loads: ExtensionLoad[] = [];
  for (const name of names) {
    try {
      await registerExtension(registry, await importModule(name, process.cwd()), name);
      loads.push({ name, ok: true });
    } catch (error) {
      loads.push({ name, ok: false, error: (error as Error).message.split('\n')[0] });
    }
  }
  return loads;
}

void loadDefaultExtensions().then((extensions) => {
  registry.onChange(() => post({ type: 'magics', magics: magicNames() }));
  post({ type: 'ready', magics: magicNames(), extensions });
});
