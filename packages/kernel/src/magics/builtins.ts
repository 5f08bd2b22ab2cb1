/**
 * The built-in magics, in IPython's conventions: %lsmagic, %time/%%time, %timeit/%%timeit, %env,
 * %cd, %pwd, %who, %whos, %history, %reset, %typecheck, %load_ext, and %%html, %%markdown,
 * %%sh/%%bash, %%writefile.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { bundles } from '../display/format.js';
import { registerExtension, type MagicContext, type MagicRegistry } from './registry.js';
import { splitArgs } from './parser.js';
import { parseTimeitFlags, timeit, timeOnce } from './timing.js';

/** What the built-ins need from the executor's realm. */
export interface BuiltinHost {
  /** Names cells have declared, in declaration order. */
  declaredNames(): string[];
  /** The value of a notebook variable. */
  valueOf(name: string): unknown;
  /** Deletes every notebook variable; returns how many were removed. */
  resetNamespace(): number;
  /** Imports a package the way a cell's `import` does. */
  importModule(specifier: string): Promise<Record<string, unknown>>;
  /** Compiles TypeScript once and returns a function that runs it in the notebook's scope. */
  compile(code: string): Promise<() => Promise<unknown>>;
}

/** Runs `sh -c command`, streaming its output into the cell; resolves with the exit code. */
export function runShell(command: string, ctx: Pick<MagicContext, 'signal'>, out: (name: 'stdout' | 'stderr', text: string) => void, stdin?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { cwd: process.cwd(), env: process.env, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const abort = (): void => {
      child.kill('SIGINT');
    };
    ctx.signal.addEventListener('abort', abort, { once: true });
    child.stdout?.on('data', (chunk: Buffer) => out('stdout', chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => out('stderr', chunk.toString('utf8')));
    if (stdin !== undefined) child.stdin?.end(stdin);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      ctx.signal.removeEventListener('abort', abort);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

function describe(value: unknown): { type: string; info: string } {
  const type = value === null ? 'null' : Array.isArray(value) ? 'Array' : typeof value === 'object' ? value.constructor?.name ?? 'Object' : typeof value;
  const info = inspect(value, { depth: 0, breakLength: Infinity, maxArrayLength: 5, maxStringLength: 60, colors: false });
  return { type, info: info.length > 70 ? `${info.slice(0, 67)}...` : info };
}

/** Registers every built-in magic. */
export function registerBuiltins(registry: MagicRegistry, host: BuiltinHost): void {
  registry.register({
    kind: 'line',
    name: 'lsmagic',
    help: 'List the available magics.',
    run(ctx) {
      const line = ctx.registry.list('line').map((magic) => `%${magic.name}`).join('  ');
      const cell = ctx.registry.list('cell').map((magic) => `%%${magic.name}`).join('  ');
      ctx.print(`Available line magics:\n${line}\n\nAvailable cell magics:\n${cell}\n\nShell: !command.  Help: ?name or name?.`);
    },
  });

  registry.register({
    kind: 'code',
    name: 'time',
    help: 'Time one statement: %time expression.',
    async run(ctx, code) {
      const { value, report } = await timeOnce(code);
      ctx.print(report);
      return value;
    },
  });

  registry.register({
    kind: 'cell',
    name: 'time',
    bodyLanguage: 'typescript',
    help: 'Time the whole cell.',
    async run(ctx) {
      const { value, report } = await timeOnce(() => ctx.runCode(ctx.body));
      ctx.print(report);
      return value;
    },
  });

  registry.register({
    kind: 'code',
    name: 'timeit',
    help: 'Time an expression over many loops: %timeit [-n N] [-r R] expression.',
    async run(ctx, code) {
      const { report } = await timeit(code, { ...parseTimeitFlags(ctx.args), signal: ctx.signal });
      ctx.print(report);
    },
  });

  registry.register({
    kind: 'cell',
    name: 'timeit',
    bodyLanguage: 'typescript',
    help: 'Time the cell over many loops: %%timeit [-n N] [-r R].',
    async run(ctx) {
      const run = await host.compile(ctx.body);
      const { report } = await timeit(run, { ...parseTimeitFlags(ctx.args), signal: ctx.signal });
      ctx.print(report);
    },
  });

  registry.register({
    kind: 'line',
    name: 'env',
    help: 'Show or set environment variables: %env, %env NAME, %env NAME=value.',
    run(ctx) {
      const args = ctx.args.trim();
      if (!args) return { ...process.env };
      const assignment = /^([A-Za-z_]\w*)\s*[= ]\s*(.*)$/.exec(args);
      if (assignment) {
        process.env[assignment[1]] = assignment[2];
        ctx.print(`env: ${assignment[1]}=${assignment[2]}`);
        return undefined;
      }
      if (!(args in process.env)) throw new Error(`%env: environment variable ${args} is not set`);
      return process.env[args];
    },
  });

  registry.register({
    kind: 'line',
    name: 'cd',
    help: 'Change the working directory (and the folder imports resolve from): %cd DIR, %cd -, %cd ~.',
    async run(ctx) {
      const cwd = (await ctx.kernel('chdir', { dir: ctx.argv[0] ?? '~' })) as string;
      ctx.print(cwd);
    },
  });

  registry.register({
    kind: 'line',
    name: 'pwd',
    help: 'The working directory.',
    run: () => process.cwd(),
  });

  registry.register({
    kind: 'line',
    name: 'who',
    help: 'List the notebook variables (optionally only those of a type: %who Function).',
    run(ctx) {
      const names = host.declaredNames().filter((name) => !ctx.argv.length || ctx.argv.includes(describe(host.valueOf(name)).type));
      ctx.print(names.length ? names.join('\t') : 'Interactive namespace is empty.');
    },
  });

  registry.register({
    kind: 'line',
    name: 'whos',
    help: 'Table of the notebook variables with type and value.',
    run(ctx) {
      const rows = host.declaredNames().map((name) => ({ name, ...describe(host.valueOf(name)) }));
      if (!rows.length) return ctx.print('Interactive namespace is empty.');
      const width = (key: 'name' | 'type'): number => Math.max(key.length + 4, ...rows.map((row) => row[key].length + 2));
      const [nw, tw] = [width('name'), width('type')];
      const lines = [`${'Variable'.padEnd(nw)}${'Type'.padEnd(tw)}Data/Info`, '-'.repeat(nw + tw + 10)];
      for (const row of rows) lines.push(`${row.name.padEnd(nw)}${row.type.padEnd(tw)}${row.info}`);
      ctx.print(lines.join('\n'));
    },
  });

  registry.register({
    kind: 'line',
    name: 'history',
    help: 'Input history: %history [-n] [-g PATTERN] [-l N] [RANGE like 1-4 or 3].',
    async run(ctx) {
      ctx.print((await ctx.kernel('history', { argv: ctx.argv })) as string);
    },
  });

  registry.register({
    kind: 'line',
    name: 'reset',
    help: 'Delete every notebook variable and forget their types: %reset (-f is accepted).',
    async run(ctx) {
      const removed = host.resetNamespace();
      await ctx.kernel('reset');
      ctx.print(`Removed ${removed} variable${removed === 1 ? '' : 's'}.`);
    },
  });

  registry.register({
    kind: 'line',
    name: 'typecheck',
    help: 'Type checking of cells: %typecheck strict (errors block the run), warn (shown, run anyway; default) or off.',
    async run(ctx) {
      const mode = ctx.argv[0];
      if (mode !== undefined && !['strict', 'warn', 'off'].includes(mode)) {
        throw new Error(`%typecheck expects strict, warn or off (cell line ${ctx.line}), got "${mode}"`);
      }
      const current = (await ctx.kernel('typecheck', { mode })) as string;
      ctx.print(`Type checking: ${current}`);
    },
  });

  registry.register({
    kind: 'line',
    name: 'load_ext',
    help: 'Load magics from an npm package that exports registerMagics(registry): %load_ext PACKAGE.',
    async run(ctx) {
      const specifier = ctx.argv[0];
      if (!specifier) throw new Error('%load_ext needs a package name, e.g. %load_ext @hyperlab/magics');
      const ns = await host.importModule(specifier);
      const before = new Set([...ctx.registry.list('line'), ...ctx.registry.list('cell')]);
      await registerExtension(ctx.registry, ns, specifier);
      const added = [...ctx.registry.list('line'), ...ctx.registry.list('cell')].filter((magic) => !before.has(magic));
      ctx.print(`Loaded ${specifier}: ${added.map((magic) => (magic.kind === 'cell' ? '%%' : '%') + magic.name).join(' ') || 'no new magics'}`);
    },
  });

  const showAs = (name: string, help: string, make: (body: string) => ReturnType<typeof bundles.html>): void =>
    registry.register({ kind: 'cell', name, bodyLanguage: 'text', help, run: (ctx) => void ctx.display(make(ctx.body)) });
  showAs('html', 'Render the cell as HTML.', bundles.html);
  showAs('markdown', 'Render the cell as Markdown.', bundles.markdown);
  showAs('svg', 'Render the cell as SVG.', bundles.svg);

  for (const shell of ['sh', 'bash']) {
    registry.register({
      kind: 'cell',
      name: shell,
      bodyLanguage: 'text',
      help: `Run the cell with ${shell}.`,
      async run(ctx) {
        const code = await runShell(`${shell} -s ${ctx.argv.map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ')}`, ctx, (name, text) => (name === 'stdout' ? process.stdout : process.stderr).write(text), ctx.body);
        if (code !== 0) throw new Error(`%%${shell}: the script exited with code ${code}`);
      },
    });
  }

  registry.register({
    kind: 'cell',
    name: 'writefile',
    bodyLanguage: 'text',
    help: 'Write the cell to a file: %%writefile [-a] PATH.',
    run(ctx) {
      const words = splitArgs(ctx.args);
      const append = words.includes('-a');
      const target = words.filter((word) => word !== '-a')[0];
      if (!target) throw new Error('%%writefile needs a file name');
      const file = path.resolve(target);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, ctx.body.endsWith('\n') ? ctx.body : `${ctx.body}\n`, { flag: append ? 'a' : 'w' });
      ctx.print(`${append ? 'Appended to' : 'Writing'} ${target}`);
    },
  });
}
