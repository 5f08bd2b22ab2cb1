/**
 * Starting a kernel process for a connection file.
 */
import { readConnectionFile } from './protocol/connection.js';
import { KernelSockets, type Logger } from './protocol/sockets.js';
import { Kernel } from './session/kernel.js';

/** Logs to stderr (the Jupyter server shows it in its own log); `HYPERLAB_LOG=debug` for more. */
export const stderrLogger: Logger = (level, message) => {
  if (level === 'debug' && process.env.HYPERLAB_LOG !== 'debug') return;
  process.stderr.write(`[hyperlab ${level}] ${message}\n`);
};

/** Binds the sockets of a connection file and serves until shutdown. */
export async function runKernel(connectionFile: string, log: Logger = stderrLogger): Promise<Kernel> {
  const info = readConnectionFile(connectionFile);
  const sockets = new KernelSockets(info, log);
  await sockets.bind();
  const kernel = new Kernel({
    sockets,
    log,
    onShutdown: () => {
      sockets.close();
      setTimeout(() => process.exit(process.exitCode ?? 0), 50).unref();
    },
  });
  process.on('SIGINT', () => void kernel.interrupt());
  kernel.start();
  log('info', `kernel listening (${info.transport}://${info.ip}, shell ${info.shell_port}${sockets.encrypted ? ', CurveZMQ' : ''})`);
  return kernel;
}
