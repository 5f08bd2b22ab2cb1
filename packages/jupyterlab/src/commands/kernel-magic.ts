/**
 * Runs a HyperLab line magic in a notebook's kernel on the extension's behalf, outside any cell:
 * its outputs reach no cell, and it is not stored in the history.
 */
import type { Kernel, KernelMessage } from '@jupyterlab/services';

/** What the magic produced. */
export interface MagicOutput {
  /** Each display_data / execute_result bundle, in order. */
  displays: Array<Record<string, unknown>>;
  /** Its stdout. */
  stdout: string;
}

/** Runs `code` (a magic line); rejects with the kernel's error message when it fails. */
export async function runKernelMagic(kernel: Kernel.IKernelConnection, code: string): Promise<MagicOutput> {
  const output: MagicOutput = { displays: [], stdout: '' };
  const future = kernel.requestExecute({ code, silent: false, store_history: false, allow_stdin: false, stop_on_error: false });
  future.onIOPub = (message: KernelMessage.IIOPubMessage) => {
    const type = message.header.msg_type;
    if (type === 'display_data' || type === 'execute_result') output.displays.push((message.content as { data: Record<string, unknown> }).data);
    else if (type === 'stream' && (message.content as { name: string }).name === 'stdout') output.stdout += (message.content as { text: string }).text;
  };
  const reply = await future.done;
  const content = reply.content as KernelMessage.IExecuteReplyMsg['content'];
  if (content.status === 'error') throw new Error(`${content.ename}: ${content.evalue}`);
  return output;
}

/** Whether a notebook runs the HyperLab kernel (its magics exist there). */
export function isHyperlabNotebook(metadata: { kernelspec?: { name?: string; language?: string } } | undefined, kernelName?: string): boolean {
  return kernelName === 'hyperlab' || metadata?.kernelspec?.name === 'hyperlab';
}
