#!/usr/bin/env node
/**
 * The `hyperlab` CLI: `run`, `verify`, `report`, `runs` and `worker` (see {@link USAGE}). Arguments are
 * parsed with Node's `util.parseArgs`; every bad argument names the flag, every bad notebook the
 * file, line, column and JSON path. Exit codes: 0 success, 1 the notebook failed or did not
 * verify, 2 bad input (see `commands.ts`).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CommandError, reportCommand, runCommand, runsCommand, verifyCommand, workerCommand, type CliIO } from './commands.js';
import type { RunsFormat } from './runs-table.js';

export { formatRuns, runSummaries, type RunSummary, type RunsFormat } from './runs-table.js';

const COMMANDS: Record<string, string> = {
  run: `usage: hyperlab run NOTEBOOK [-p KEY=VALUE]... [-o OUT] [--kernel NAME] [--timeout SECONDS]
  Runs every code cell in a fresh kernel and saves the outputs to OUT (default: NOTEBOOK, in place).
  -p, --parameter KEY=VALUE  papermill-style parameter: VALUE as JSON when it parses, else a string;
                             injected as \`const KEY = VALUE;\` after the cell tagged "parameters"
  -o, --output OUT           where to save; on a failing cell the partial notebook goes there
                             (without -o the notebook is left unmodified)
  --kernel NAME              kernelspec (default: the notebook's metadata.kernelspec.name, else hyperlab)
  --timeout SECONDS          per-cell limit: the kernel is interrupted and the run stops`,
  verify: `usage: hyperlab verify NOTEBOOK [--rtol R] [--atol A] [--kernel NAME] [--timeout SECONDS]
  Re-runs the notebook in a fresh kernel (in memory; the file is not written) and compares each
  stored run record with the fresh one, by position. Exit 0 when all match, 1 otherwise (also
  when the notebook has no stored run records).
  --rtol R, --atol A         tolerances: ok when |fresh - stored| <= A + R*|stored| (default 0: exact)`,
  report: `usage: hyperlab report NOTEBOOK [-o OUT.html] [--title TITLE]
  Writes one self-contained HTML file (default: NOTEBOOK with .html): markdown, code, outputs,
  interactive Plotly figures and run records, with nothing loaded from the network.`,
  runs: `usage: hyperlab runs NOTEBOOK [--format table|csv|json]
  Lists the run records stored in the notebook's outputs.`,
  worker: `usage: hyperlab worker --redis URL [--concurrency N] [--queue NAME]
  Runs %%sweep trials from a BullMQ queue in Redis (a sweep with engine: { redis: URL }) until
  SIGINT/SIGTERM, which puts the running trials back in the queue; start one per machine or core.
  --redis URL                redis://[user:password@]host:port[/db] (rediss:// for TLS)
  --concurrency N            trials at once in this process (default 1)
  --queue NAME               the sweep's queue (default hyperlab-trials)
  --lock-duration MS         a running trial's lock, renewed at half (default 30000)
  --stalled-interval MS      how often dead workers' trials are looked for and re-queued (default 15000)
  --max-stalled-count N      times a trial may lose its worker before it fails (default 2)
  --backend NAME             the trials' backend: node, wasm, cpu or auto (default $HYPERLAB_BACKEND, else auto)`,
};

/** The overall usage text. */
export const USAGE = `usage: hyperlab <command> NOTEBOOK [options]   (hyperlab <command> --help for details)
       hyperlab worker --redis URL [options]

${Object.values(COMMANDS).map((u) => u.split('\n')[0].replace('usage: ', '  ')).join('\n')}

Exit codes: 0 ok, 1 a cell failed / the kernel died / records did not verify, 2 bad input.`;

type Options = NonNullable<ParseArgsConfig['options']>;

const OPTIONS: Record<string, Options> = {
  run: { parameter: { type: 'string', short: 'p', multiple: true }, output: { type: 'string', short: 'o' }, kernel: { type: 'string' }, timeout: { type: 'string' } },
  verify: { rtol: { type: 'string' }, atol: { type: 'string' }, kernel: { type: 'string' }, timeout: { type: 'string' } },
  report: { output: { type: 'string', short: 'o' }, title: { type: 'string' } },
  runs: { format: { type: 'string' } },
  worker: {
    redis: { type: 'string' },
    concurrency: { type: 'string' },
    queue: { type: 'string' },
    'lock-duration': { type: 'string' },
    'stalled-interval': { type: 'string' },
    'max-stalled-count': { type: 'string' },
    backend: { type: 'string' },
  },
};

/** `hyperlab worker --backend` choices (the core's backend names and `auto`). */
const WORKER_BACKENDS = ['node', 'wasm', 'cpu', 'auto'];

/** `util.parseArgs` errors, reworded to name the flag. */
function argumentError(error: Error & { code?: string }): string {
  const m = /'(-[^' ,]+)(?:, (--[^' ]+))?/.exec(error.message);
  const flag = m ? (m[2] ? `${m[1]}/${m[2]}` : m[1]) : '';
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${JSON.stringify(flag)}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return `option ${flag} needs a value${/ambiguous/.test(error.message) ? ` (write ${flag}=VALUE for a value starting with "-")` : ''}`;
    default:
      return error.message;
  }
}

function number(flag: string, raw: string | undefined, check: (x: number) => boolean, what: string): number | undefined {
  if (raw === undefined) return undefined;
  const x = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(x) || !check(x)) throw new CommandError(`--${flag} must be ${what}, got ${JSON.stringify(raw)}`, 2);
  return x;
}

/** Runs the CLI on `argv` (without node and script); resolves with the exit code. */
export async function main(argv: string[], io: CliIO = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), errIsTTY: process.stderr.isTTY }): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command ? io.out : io.err)(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  const usage = COMMANDS[command];
  if (!usage) {
    io.err(`hyperlab: unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`${usage}\n`);
    return 0;
  }
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: OPTIONS[command], allowPositionals: true, strict: true });
    } catch (error) {
      throw new CommandError(`${argumentError(error as Error)}\n${usage}`, 2);
    }
    const { values, positionals } = parsed as { values: Record<string, string | string[] | undefined>; positionals: string[] };
    const str = (k: string) => values[k] as string | undefined;
    if (command === 'worker') {
      if (positionals.length) throw new CommandError(`worker takes no positional arguments, got ${positionals.join(' ')}\n${usage}`, 2);
      const redis = str('redis');
      if (!redis) throw new CommandError(`--redis URL is required\n${usage}`, 2);
      const int = (flag: string, min: number) => number(flag, str(flag), (x) => Number.isInteger(x) && x >= min, `an integer ≥ ${min}`);
      const backend = str('backend');
      if (backend !== undefined && !WORKER_BACKENDS.includes(backend)) throw new CommandError(`--backend must be one of ${WORKER_BACKENDS.join(', ')}, got ${JSON.stringify(backend)}`, 2);
      return await workerCommand(
        { redis, queue: str('queue'), concurrency: int('concurrency', 1), lockDurationMs: int('lock-duration', 1000), stalledIntervalMs: int('stalled-interval', 500), maxStalledCount: int('max-stalled-count', 0), backend },
        io,
      );
    }
    if (positionals.length !== 1) throw new CommandError(`expected one notebook, got ${positionals.length}${positionals.length ? ` (${positionals.join(' ')})` : ''}\n${usage}`, 2);
    const notebook = positionals[0];
    const timeoutSeconds = number('timeout', str('timeout'), (x) => x > 0, 'a number of seconds > 0');
    switch (command) {
      case 'run':
        return await runCommand({ notebook, parameters: (values.parameter as string[] | undefined) ?? [], output: str('output'), kernel: str('kernel'), timeoutSeconds }, io);
      case 'verify': {
        const rtol = number('rtol', str('rtol'), (x) => x >= 0, 'a number ≥ 0') ?? 0;
        const atol = number('atol', str('atol'), (x) => x >= 0, 'a number ≥ 0') ?? 0;
        return await verifyCommand({ notebook, rtol, atol, kernel: str('kernel'), timeoutSeconds }, io);
      }
      case 'report':
        return await reportCommand({ notebook, output: str('output'), title: str('title') }, io);
      default: {
        const format = str('format') ?? 'table';
        if (format !== 'table' && format !== 'csv' && format !== 'json') throw new CommandError(`--format must be table, csv or json, got ${JSON.stringify(format)}`, 2);
        return runsCommand({ notebook, format: format as RunsFormat }, io);
      }
    }
  } catch (error) {
    if (error instanceof CommandError) {
      io.err(`hyperlab ${command}: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

/**
 * Runs the CLI as a process: `main`, then exit with its code once the output is flushed (after a
 * kernel death a pending request timer in KernelClient would otherwise keep the process alive,
 * see execute.ts). Called by `bin/hyperlab.js` and when this file is run directly.
 */
export function runCli(argv: string[]): void {
  main(argv).then(
    (code) => process.stdout.write('', () => process.stderr.write('', () => process.exit(code))),
    (error: Error) => {
      process.stderr.write(`hyperlab: internal error: ${error.stack ?? error.message}\n`);
      process.exit(70);
    },
  );
}

if (require.main === module) runCli(process.argv.slice(2));
