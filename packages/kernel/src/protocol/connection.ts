/**
 * Connection files, as written by a Jupyter server for each kernel it starts.
 * @see https://jupyter-client.readthedocs.io/en/latest/kernels.html#connection-files
 */
import { readFileSync } from 'node:fs';
import { isZ85Key, type CurveKeyPair } from './curve.js';

/** The content of a connection file. */
export interface ConnectionInfo {
  transport: 'tcp' | 'ipc';
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: string;
  kernel_name?: string;
  /** The kernel's CurveZMQ public key (Z85), present when the manager asked for transport encryption. */
  curve_publickey?: string;
  /** The kernel's CurveZMQ secret key (Z85), always with {@link ConnectionInfo.curve_publickey}. */
  curve_secretkey?: string;
}

/** The five channels and their socket roles. */
export const CHANNELS = ['shell', 'control', 'stdin', 'iopub', 'hb'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Reads and checks a connection file, naming the first missing or wrong field. */
export function readConnectionFile(path: string): ConnectionInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read connection file ${path}: ${(error as Error).message}`);
  }
  return parseConnectionInfo(raw, path);
}

/** Validates an already-parsed connection object. */
export function parseConnectionInfo(raw: unknown, where = 'connection info'): ConnectionInfo {
  if (raw === null || typeof raw !== 'object') throw new Error(`${where}: not a JSON object`);
  const info = raw as Record<string, unknown>;
  const transport = info.transport ?? 'tcp';
  if (transport !== 'tcp' && transport !== 'ipc') throw new Error(`${where}: transport must be "tcp" or "ipc", got ${JSON.stringify(transport)}`);
  if (typeof info.ip !== 'string' || info.ip === '') throw new Error(`${where}: "ip" must be a non-empty string`);
  for (const channel of CHANNELS) {
    const port = info[`${channel}_port`];
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
      throw new Error(`${where}: "${channel}_port" must be an integer port number, got ${JSON.stringify(port)}`);
    }
  }
  if (typeof info.key !== 'string') throw new Error(`${where}: "key" must be a string`);
  const curve = parseCurveKeys(info, where);
  return {
    transport,
    ip: info.ip,
    shell_port: info.shell_port as number,
    iopub_port: info.iopub_port as number,
    stdin_port: info.stdin_port as number,
    control_port: info.control_port as number,
    hb_port: info.hb_port as number,
    key: info.key,
    signature_scheme: typeof info.signature_scheme === 'string' ? info.signature_scheme : 'hmac-sha256',
    kernel_name: typeof info.kernel_name === 'string' ? info.kernel_name : undefined,
    ...(curve && { curve_publickey: curve.publicKey, curve_secretkey: curve.secretKey }),
  };
}

/** `curve_publickey` and `curve_secretkey`: both Z85 keys, or both absent (no encryption). */
function parseCurveKeys(info: Record<string, unknown>, where: string): CurveKeyPair | undefined {
  const { curve_publickey: publicKey, curve_secretkey: secretKey } = info;
  if (publicKey === undefined && secretKey === undefined) return undefined;
  for (const [name, key] of [['curve_publickey', publicKey], ['curve_secretkey', secretKey]] as const) {
    if (key === undefined) throw new Error(`${where}: "${name}" is missing (CurveZMQ needs both curve_publickey and curve_secretkey)`);
    if (!isZ85Key(key)) throw new Error(`${where}: "${name}" must be a Z85-encoded CurveZMQ key (40 characters)`);
  }
  return { publicKey: publicKey as string, secretKey: secretKey as string };
}

/** The kernel's CurveZMQ keypair when the connection file carries one, else undefined. */
export function curveKeys(info: ConnectionInfo): CurveKeyPair | undefined {
  return info.curve_publickey && info.curve_secretkey ? { publicKey: info.curve_publickey, secretKey: info.curve_secretkey } : undefined;
}

/** The ZeroMQ endpoint of a channel: `tcp://ip:port`, or `ipc://ip-port` as jupyter_client names them. */
export function endpoint(info: ConnectionInfo, channel: Channel): string {
  const port = info[`${channel}_port`];
  return info.transport === 'tcp' ? `tcp://${info.ip}:${port}` : `ipc://${info.ip}-${port}`;
}
