#!/usr/bin/env node
/**
 * `hyperlab-kernel`: run the kernel for a connection file, or install its kernelspec.
 *
 *   hyperlab-kernel run CONNECTION_FILE
 *   hyperlab-kernel install [--user | --sys-prefix | --prefix DIR] [--name NAME]
 */
import { installKernelspec, KERNEL_NAME, type InstallTarget } from './kernelspec.js';

const USAGE = `usage:
  hyperlab-kernel run CONNECTION_FILE          start the kernel (Jupyter does this)
  hyperlab-kernel install [--user | --sys-prefix | --prefix DIR] [--name NAME]
                                               install the kernelspec (default --user, name "${KERNEL_NAME}")`;

function parseInstall(args: string[]): { target: InstallTarget; name: string } {
  let target: InstallTarget = { kind: 'user' };
  let name = KERNEL_NAME;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--user') target = { kind: 'user' };
    else if (arg === '--sys-prefix') target = { kind: 'sys-prefix' };
    else if (arg === '--prefix') {
      const prefix = args[++i];
      if (!prefix) throw new Error('--prefix needs a directory');
      target = { kind: 'prefix', prefix };
    } else if (arg.startsWith('--prefix=')) target = { kind: 'prefix', prefix: arg.slice('--prefix='.length) };
    else if (arg === '--name') {
      name = args[++i] ?? '';
      if (!name) throw new Error('--name needs a value');
    } else if (arg.startsWith('--name=')) name = arg.slice('--name='.length);
    else throw new Error(`unknown option ${arg}`);
  }
  return { target, name };
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'install') {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const { target, name } = parseInstall(rest);
    const dir = installKernelspec(target, name);
    process.stdout.write(`Installed kernelspec ${name} in ${dir}\n`);
    return 0;
  }
  if (command === 'run' || command === '-f' || command === '--connection-file') {
    const file = rest[0];
    if (!file) throw new Error('run needs the connection file path');
    const { runKernel } = await import('./main.js');
    await runKernel(file);
    return -1;
  }
  if (command === '--help' || command === '-h' || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  throw new Error(`unknown command "${command}"`);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`hyperlab-kernel: ${error.message}\n${USAGE}\n`);
    process.exitCode = 2;
  },
);
