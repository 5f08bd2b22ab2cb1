/**
 * A throwaway `redis-server` for tests and benchmarks: Debian's `/usr/bin/redis-server` on a free
 * loopback port, in a temporary folder, with no persistence unless asked (`--save ''
 * --appendonly no`), ready once it answers `PING`. Never a fixed port, so parallel test files and
 * other users of the machine do not collide.
 *
 * ```ts
 * const redis = await startRedis();
 * after(() => redis.stop());
 * // redis.url is redis://127.0.0.1:<port>
 * await redis.restart(); // same port; with persistence: false the data is gone, as after a crash
 * ```
 *
 * Not part of the package's API (excluded from the published files).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** The server binary. Default `$REDIS_SERVER` or `/usr/bin/redis-server`. */
  binary?: string;
  /**
   * Keep data across {@link TestRedis.restart}: `'aof'` writes an append-only file (fsync every
   * write) in the temp folder. Default `false`: nothing is written to disk, a restart starts empty.
   */
  persistence?: false | 'aof';
  /** How long to wait for `PING` to answer, in ms. Default 15000 (slow, shared machines). */
  readyTimeoutMs?: number;
}

/** A running test server. */
export interface TestRedis {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The temp folder (server's `--dir`, its log). */
  readonly dir: string;
  /** The server's pid (changes on restart). */
  readonly pid: number;
  /**
   * Kills the server (SIGKILL by default: a crash, no final save) and starts it again on the
   * same port and folder; resolves when it answers `PING`.
   */
  restart(options?: { signal?: NodeJS.Signals; downMs?: number }): Promise<void>;
  /** Stops the server (SIGTERM, SIGKILL after 3 s) and removes the temp folder. Idempotent. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves true when `PING` on 127.0.0.1:port answers `+PONG` within `timeoutMs`. */
export function pingRedis(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let answer = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts a server (see the module comment). Rejects with the server's log when it does not come up. */
export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  const binary = options.binary ?? process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
  if (!fs.existsSync(binary)) throw new Error(`redis-server not found at ${binary} (install Debian's redis-server, or set REDIS_SERVER)`);
  const readyTimeoutMs = options.readyTimeoutMs ?? 15000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-redis-'));
  const logFile = path.join(dir, 'redis.log');
  const persistence = options.persistence ?? false;
  let child: ChildProcess | undefined;
  let port = 0;

  const launch = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--logfile', logFile, '--daemonize', 'no', '--protected-mode', 'yes'];
    args.push(...(persistence === 'aof' ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
    const proc = spawn(binary, args, { stdio: 'ignore' });
    child = proc;
    const failed = new Promise<string>((resolve) => {
      proc.once('error', (e) => resolve(e.message));
      proc.once('exit', (code, signal) => resolve(`exited (${signal ?? code})`));
    });
    const deadline = Date.now() + readyTimeoutMs;
    let why: string | undefined;
    void failed.then((w) => (why = w));
    while (Date.now() < deadline && why === undefined) {
      if (await pingRedis(port, 500)) return;
      await sleep(50);
    }
    proc.kill('SIGKILL');
    const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n') : '';
    throw new Error(`redis-server on port ${port} did not answer PING within ${readyTimeoutMs} ms${why ? ` (${why})` : ''}${log ? `:\n${log}` : ''}`);
  };

  // The port was free when asked, but another process may take it first: try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freeLoopbackPort();
    try {
      await launch();
      break;
    } catch (error) {
      if (attempt >= 3) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  let stopped = false;
  const kill = async (signal: NodeJS.Signals) => {
    const proc = child;
    if (!proc) return;
    const gone = exited(proc);
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return child?.pid ?? -1;
    },
    async restart({ signal = 'SIGKILL', downMs = 0 } = {}) {
      if (stopped) throw new Error('the test redis-server was stopped');
      await kill(signal);
      if (downMs > 0) await sleep(downMs);
      await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
