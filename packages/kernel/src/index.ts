/**
 * @hyperlab/kernel — a TypeScript Jupyter kernel.
 */
export * from './protocol/messages.js';
export * from './protocol/signing.js';
export * from './protocol/codec.js';
export * from './protocol/connection.js';
export * from './protocol/curve.js';
export { KernelSockets, type Logger } from './protocol/sockets.js';
export { Kernel, type KernelOptions } from './session/kernel.js';
export { HistoryStore } from './session/history.js';
export { runKernel } from './main.js';
export { installKernelspec, kernelJson, KERNEL_NAME, DISPLAY_NAME, type InstallTarget } from './kernelspec.js';
export { parseCell, splitArgs, type ParsedCell } from './magics/parser.js';
export { MagicRegistry, type Magic, type LineMagic, type CodeMagic, type CellMagic, type MagicContext } from './magics/registry.js';
export { compileCell, type CompiledCell } from './executor/transform.js';
export { KernelClient, streamText, first, type RequestResult, type ExecuteOptions } from './client/client.js';
export { freePort, launchKernel, newConnectionInfo, type ConnectionOptions, type LaunchedKernel, type LaunchOptions } from './client/launcher.js';
