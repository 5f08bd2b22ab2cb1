/**
 * Output capture inside the executor worker: `console.*`, `process.stdout.write` and
 * `process.stderr.write` become Jupyter stream messages, batched so that a loop printing
 * thousands of lines sends a few messages, yet flushed before any display or cell end so that
 * the order of outputs is kept.
 */
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import type { FromWorker } from './messages.js';

const FLUSH_BYTES = 16 * 1024;
const FLUSH_MS = 50;

/** Batches stream text and posts it to the main thread. */
export class OutputChannel {
  private pending: { name: 'stdout' | 'stderr'; text: string } | undefined;
  private lastFlush = Date.now();
  private scheduled = false;

  constructor(private readonly post: (message: FromWorker) => void) {}

  /** Appends text to a stream; flushes when the other stream, size or age asks for it. */
  write(name: 'stdout' | 'stderr', text: string): void {
    if (text === '') return;
    if (this.pending && this.pending.name !== name) this.flush();
    if (this.pending) this.pending.text += text;
    else this.pending = { name, text };
    if (this.pending.text.length >= FLUSH_BYTES || Date.now() - this.lastFlush >= FLUSH_MS) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Sends what is buffered now. */
  flush(): void {
    this.lastFlush = Date.now();
    if (!this.pending) return;
    const { name, text } = this.pending;
    this.pending = undefined;
    this.post({ type: 'stream', name, text });
  }

  /** Posts a non-stream message after flushing buffered text, keeping output order. */
  send(message: FromWorker): void {
    this.flush();
    this.post(message);
  }

  /** A Writable that feeds one stream. */
  writable(name: 'stdout' | 'stderr'): Writable {
    return new Writable({
      decodeStrings: false,
      write: (chunk: unknown, _encoding, callback) => {
        this.write(name, typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
        callback();
      },
    });
  }

  /** Replaces the realm's console and process stream writers with this channel. */
  install(): Console {
    const replacement = new Console({ stdout: this.writable('stdout'), stderr: this.writable('stderr'), colorMode: false });
    for (const name of ['stdout', 'stderr'] as const) {
      const stream = process[name] as unknown as { write: (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean };
      stream.write = (chunk: unknown, encoding?: unknown, callback?: unknown) => {
        this.write(name, typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString(typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
        const done = typeof encoding === 'function' ? encoding : callback;
        if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
        return true;
      };
    }
    globalThis.console = replacement;
    return replacement;
  }
}
