/**
 * Naive fine-tuning: each experience is trained in turn with no protection against forgetting —
 * the lower bound ("None" in van de Ven & Tolias 2019, arXiv:1904.07734; Avalanche's `Naive`).
 */
import type { Strategy } from '../strategy.js';

/** The naive strategy: no hooks. */
export function naiveStrategy(config: Record<string, unknown>): Strategy {
  return { name: 'naive', config, dispose: () => undefined };
}
