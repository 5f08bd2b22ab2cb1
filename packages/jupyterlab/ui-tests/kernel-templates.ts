/**
 * The experiment-magic templates as the notebook's kernel reports them (`%magic_templates`), asked
 * from the page through the notebook's kernel connection, so a test can compare an inserted cell
 * with the kernel's own text.
 */
import type { Page } from 'playwright-core';
import type { LabWindow } from './lab';

/** One magic's template and its variants (the `%%adapter` methods). */
export interface KernelTemplate {
  name: string;
  template: string;
  variants: Array<{ key: string; template: string }>;
}

/** `%magic_templates`' magics, from the kernel of the notebook under test. */
export function kernelTemplates(page: Page): Promise<KernelTemplate[]> {
  return page.evaluate(async () => {
    type Future = { onIOPub: (msg: { header: { msg_type: string }; content: { data?: Record<string, unknown> } }) => void; done: Promise<unknown> };
    const panel = (window as unknown as LabWindow).__hl!.notebook! as unknown as { sessionContext: { session: { kernel: { requestExecute(content: object): Future } } } };
    const future = panel.sessionContext.session.kernel.requestExecute({ code: '%magic_templates', silent: false, store_history: false });
    let magics: KernelTemplate[] = [];
    future.onIOPub = (msg) => {
      const value = msg.content.data?.['application/vnd.hyperlab.magics.v1+json'] as { magics?: KernelTemplate[] } | undefined;
      if (value?.magics) magics = value.magics;
    };
    await future.done;
    return magics;
  });
}
