/**
 * Starting a kernel process on free loopback ports (or IPC paths), as a Jupyter server's kernel
 * manager does: write a connection file with a fresh key (and, if asked, a CurveZMQ keypair),
 * spawn the kernelspec's argv, connect a client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ConnectionInfo } from '../protocol/connection.js';
import { newCurveKeyPair } from '../protocol/curve.js';
import { KernelClient } from './client.js';

/** Finds a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** How {@link newConnectionInfo} connects. */
export interface ConnectionOptions {
  /**
   * IPC endpoints `ipc://<ipcPrefix>-<n>` (n = 1…5, as jupyter_client numbers them) instead of
   * free loopback TCP ports.
   */
  ipcPrefix?: string;
  /** A fresh CurveZMQ keypair in `curve_publickey`/`curve_secretkey`, as `transport_encryption='required'` writes. */
  encryption?: boolean;
}

/** A fresh connection file's content: free loopback ports, or IPC paths under `ipcPrefix`. */
export async function newConnectionInfo(options: ConnectionOptions = {}): Promise<ConnectionInfo> {
  const ports: number[] = options.ipcPrefix ? [1, 2, 3, 4, 5] : [];
  while (ports.length < 5) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const [shell_port, iopub_port, stdin_port, control_port, hb_port] = ports;
  const keys = options.encryption ? newCurveKeyPair() : undefined;
  return {
    transport: options.ipcPrefix ? 'ipc' : 'tcp',
    ip: options.ipcPrefix ?? '127.0.0.1',
    shell_port,
    iopub_port,
    stdin_port,
    control_port,
    hb_port,
    key: randomBytes(32).toString('hex'),
    signature_scheme: 'hmac-sha256',
    kernel_name: 'hyperlab',
    ...(keys && { curve_publickey: keys.publicKey, curve_secretkey: keys.secretKey }),
  };
}

/** A kernel process and a client connected to it. */
export interface LaunchedKernel {
  process: ChildProcess;
  client: KernelClient;
  info: ConnectionInfo;
  connectionFile: string;
  /** What the kernel wrote to stderr (its log). */
  stderr: () => string;
  /** Kills the process (if still alive), closes the client (rejecting requests in flight) and removes the connection file. */
  dispose: () => Promise<void>;
}

/** Options for {@link launchKernel}. */
export interface LaunchOptions {
  /** argv with `{connection_file}`; defaults to this package's own CLI. */
  argv?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** `ipc` binds Unix sockets in the launch's private temporary folder; default `tcp`. */
  transport?: 'tcp' | 'ipc';
  /** CurveZMQ keys in the connection file: the kernel's sockets are Curve servers, the client's Curve clients. */
  encryption?: boolean;
}

/** Starts a kernel and connects a client to it. */
export async function launchKernel(options: LaunchOptions = {}): Promise<LaunchedKernel> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hyperlab-kernel-'));
  const ipcPrefix = options.transport === 'ipc' ? path.join(dir, 'kernel-ipc') : undefined;
  const info = await newConnectionInfo({ ipcPrefix, encryption: options.encryption });
  const connectionFile = path.join(dir, 'connection.json');
  writeFileSync(connectionFile, JSON.stringify(info));
  const argv = (options.argv ?? [process.execPath, path.join(__dirname, '..', 'cli.js'), 'run', '{connection_file}']).map((arg) => arg.replace('{connection_file}', connectionFile));
  const child = spawn(argv[0], argv.slice(1), { cwd: options.cwd ?? process.cwd(), env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  // A command that cannot start (ENOENT, EACCES) is an 'error' event, not an exception.
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(new Error(`could not start the kernel (${argv[0]}): ${error.message}`)));
  });
  failed.catch(() => undefined);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new KernelClient(info);
  try {
    await Promise.race([client.connect(), failed]);
  } catch (error) {
    child.kill('SIGKILL');
    client.close();
    removeDir();
    throw new Error(`${(error as Error).message}; kernel log:\n${stderr}`);
  }
  return {
    process: child,
    client,
    info,
    connectionFile,
    stderr: () => stderr,
    dispose: async () => {
      client.close();
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
      removeDir();
    },
  };
}
