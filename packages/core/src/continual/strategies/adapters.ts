/**
 * Per-task adapters on a frozen backbone: one LoRA (or DoRA) adapter per experience, trained on
 * that experience alone while every backbone weight stays frozen; at test time the task label
 * picks the adapter, so nothing learnt for one task can be overwritten by another. This is the
 * parameter-isolation family (e.g. Rusu et al. 2016, "Progressive Neural Networks",
 * arXiv:1606.04671; per-task LoRA as in Wistuba et al. 2023, "Continual Learning with Low Rank
 * Adaptation", arXiv:2311.17601), with LoRA from `adapters/lora.ts` (Hu et al. 2021,
 * arXiv:2106.09685).
 *
 * All adapters (`task0`, `task1`, …) are added before the first experience, each from its own
 * random stream; LoRA's B starts at zero, so a task not yet trained sees the backbone itself.
 * It needs a task label at test time, so it runs only in the task scenario. The adapters stay on
 * the model after the run (see `listAdapters`).
 */
import { findModules } from '../../nn/module.js';
import { addAdapter, setActiveAdapters } from '../../adapters/framework.js';
import type { Strategy, StrategyContext } from '../strategy.js';

/** The adapter name of experience i. */
export const taskAdapterName = (experience: number): string => `task${experience}`;

/** The per-task adapters strategy. */
export function adaptersStrategy(config: Record<string, unknown>, ctx: StrategyContext): Strategy {
  if (ctx.scenario !== 'task') {
    throw new Error(`strategy 'adapters' picks each task's adapter by its task label, which the '${ctx.scenario}' scenario does not give at test time; use scenario 'task'`);
  }
  const linears = findModules(ctx.model)
    .filter((m) => m.module.kind === 'linear')
    .map((m) => m.path);
  const targetModules = (config.targetModules as string[] | undefined) ?? linears;
  for (const e of ctx.benchmark.experiences) {
    const name = taskAdapterName(e.index);
    addAdapter(ctx.model, ctx.params, { method: config.method, r: config.r, loraAlpha: config.loraAlpha, targetModules }, name, { rng: ctx.rng.fork(`adapter:${name}`) });
  }
  let training = 0;
  return {
    name: 'adapters',
    config: { ...config, targetModules },
    beforeExperience(experience) {
      training = experience;
      setActiveAdapters(ctx.model, [taskAdapterName(experience)]);
    },
    beforeEvaluate: (experience) => setActiveAdapters(ctx.model, [taskAdapterName(experience)]),
    // Evaluation may run inside an experience (evalEvery): the trained adapter must stay the trainable one.
    afterEvaluate: () => setActiveAdapters(ctx.model, [taskAdapterName(training)]),
    dispose: () => undefined,
  };
}
