/** `%backend [wasm|cpu|node|auto]`: choose (or show) the TensorFlow.js backend, with the reason. */
import type { LineMagic } from '@hyperlab/kernel/magics';
import { backendChosen, ensureBackend } from '../session.js';
import { UsageError } from '../config/yaml-config.js';

const CHOICES = ['wasm', 'cpu', 'node', 'auto'] as const;

/** `%backend`. */
export const backendMagic: LineMagic = {
  kind: 'line',
  name: 'backend',
  help: 'Choose the compute backend: %backend wasm|cpu|node|auto (no argument: show it).',
  async run(ctx) {
    const core = await import('@hyperlab/core');
    const choice = ctx.argv[0];
    if (choice !== undefined) {
      if (!(CHOICES as readonly string[]).includes(choice)) throw new UsageError(`%backend (cell line ${ctx.line}) expects one of ${CHOICES.join(', ')}, got "${choice}"`);
      const ready = core.setBackend(choice as (typeof CHOICES)[number]).then(() => undefined);
      backendChosen(ready);
      try {
        await ready;
      } catch (error) {
        backendChosen(undefined);
        throw new UsageError(`%backend ${choice}: ${(error as Error).message}`);
      }
    } else await ensureBackend(core);
    const info = core.backendInfo();
    const extras = [info.simd !== undefined ? `SIMD ${info.simd ? 'on' : 'off'}` : '', `tfjs ${info.tfjsVersion}`].filter(Boolean).join(', ');
    ctx.print(`Backend: ${info.name} (${extras}) — ${info.reason}`);
    for (const fallback of info.fallbacks) ctx.print(`  not ${fallback.name}: ${fallback.error}`);
  },
};
