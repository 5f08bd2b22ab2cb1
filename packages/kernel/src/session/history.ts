/**
 * Input history, persisted across kernel restarts as JSON lines (one entry a line), answering
 * `history_request` (tail, range, search) and `%history`.
 * @see https://jupyter-client.readthedocs.io/en/latest/messaging.html#history
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** One executed input. */
export interface HistoryEntry {
  session: number;
  line: number;
  source: string;
  output?: string;
}

/** A history_request's content. */
export interface HistoryQuery {
  hist_access_type: 'tail' | 'range' | 'search';
  output?: boolean;
  raw?: boolean;
  session?: number;
  start?: number;
  stop?: number;
  n?: number;
  pattern?: string;
  unique?: boolean;
}

/** Where history lives: `$HYPERLAB_HISTORY_FILE`, else `$XDG_DATA_HOME/hyperlab/history.jsonl`. */
export function defaultHistoryFile(): string {
  if (process.env.HYPERLAB_HISTORY_FILE) return process.env.HYPERLAB_HISTORY_FILE;
  const data = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(data, 'hyperlab', 'history.jsonl');
}

const MAX_ENTRIES = 20_000;

/** The history of this kernel session and the ones before it. */
export class HistoryStore {
  private entries: HistoryEntry[] | undefined;
  private sessionNumber = 0;

  constructor(private readonly file: string = defaultHistoryFile()) {}

  private load(): HistoryEntry[] {
    if (this.entries) return this.entries;
    const entries: HistoryEntry[] = [];
    if (existsSync(this.file)) {
      for (const line of readFileSync(this.file, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          const entry = JSON.parse(line) as HistoryEntry;
          if (typeof entry.session === 'number' && typeof entry.line === 'number' && typeof entry.source === 'string') entries.push(entry);
        } catch {
          // A torn last line (a kernel killed mid-write) is skipped, not fatal.
        }
      }
    }
    this.entries = entries.slice(-MAX_ENTRIES);
    this.sessionNumber = Math.max(0, ...this.entries.map((entry) => entry.session)) + 1;
    return this.entries;
  }

  /** This kernel's session number (previous sessions have smaller ones). */
  get session(): number {
    this.load();
    return this.sessionNumber;
  }

  /** Records an input; a failure to write is reported, never thrown into the cell. */
  append(line: number, source: string, output?: string): string | undefined {
    const entry: HistoryEntry = { session: this.session, line, source, ...(output !== undefined ? { output } : {}) };
    this.load().push(entry);
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
      return undefined;
    } catch (error) {
      return `history not saved to ${this.file}: ${(error as Error).message}`;
    }
  }

  /** Answers a history_request. */
  query(query: HistoryQuery): HistoryEntry[] {
    const entries = this.load();
    switch (query.hist_access_type) {
      case 'tail':
        return entries.slice(-(query.n ?? 10));
      case 'range': {
        const requested = query.session ?? 0;
        const session = requested > 0 ? requested : this.session + requested;
        const start = query.start ?? 1;
        const stop = query.stop ?? Number.POSITIVE_INFINITY;
        return entries.filter((entry) => entry.session === session && entry.line >= start && entry.line < stop);
      }
      case 'search': {
        const pattern = globToRegExp(query.pattern ?? '*');
        let found = entries.filter((entry) => pattern.test(entry.source));
        if (query.unique) {
          const seen = new Set<string>();
          found = found.reverse().filter((entry) => !seen.has(entry.source) && seen.add(entry.source)).reverse();
        }
        return query.n ? found.slice(-query.n) : found;
      }
      default:
        throw new Error(`unknown hist_access_type ${JSON.stringify((query as { hist_access_type: unknown }).hist_access_type)}`);
    }
  }

  /** `%history [-n] [-o] [-g PATTERN] [-l N] [RANGE]`, formatted as IPython prints it. */
  magic(argv: string[]): string {
    let numbered = false;
    let withOutput = false;
    let query: HistoryQuery = { hist_access_type: 'range', session: 0 };
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i];
      if (arg === '-n') numbered = true;
      else if (arg === '-o') withOutput = true;
      else if (arg === '-g') query = { hist_access_type: 'search', pattern: `*${argv[++i] ?? ''}*` };
      else if (arg === '-l') query = { hist_access_type: 'tail', n: Number(argv[++i] ?? 10) };
      else {
        const range = /^(?:(\d+)\/)?(\d+)(?:-(\d+))?$/.exec(arg);
        if (!range) throw new Error(`%history: cannot read "${arg}"; expected -n, -o, -g PATTERN, -l N or a range like 4 or 2-5`);
        const start = Number(range[2]);
        query = { hist_access_type: 'range', session: range[1] ? Number(range[1]) : 0, start, stop: (range[3] ? Number(range[3]) : start) + 1 };
      }
    }
    const found = this.query(query);
    return found
      .map((entry) => {
        const prefix = numbered ? `${query.hist_access_type === 'range' ? '' : `${entry.session}/`}${entry.line}: ` : '';
        return `${prefix}${entry.source}${withOutput && entry.output ? `\n${entry.output}` : ''}`;
      })
      .join('\n');
  }
}

/** Jupyter history search patterns are globs: `*` any run, `?` one character. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[\\s\\S]*').replace(/\?/g, '[\\s\\S]');
  return new RegExp(`^${escaped}$`);
}
