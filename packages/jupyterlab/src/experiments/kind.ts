/**
 * Which experiment magic wrote a run record, and the few numbers that sum each kind up. Pure, for
 * tests.
 */
import type { RunRecord } from '../records';

/** The experiment kinds the extension tells apart (`%%experiment` and unknown magics are `experiment`). */
export type ExperimentKind = 'adapter' | 'continual' | 'hypernet' | 'sweep' | 'experiment';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The kind of a record. A `%%sweep` record keeps its trial magic in `config.magic` (its config is
 * the sweep's body: `magic: adapter`, `base`, `space`…), so a sweep is recognised by its outcome
 * (`outcome.trials`) or its `space`; every other kind by `config.magic`.
 */
export function experimentKind(record: Pick<RunRecord, 'config'> & { outcome?: unknown }): ExperimentKind {
  const config = isObject(record.config) ? record.config : {};
  if ((isObject(record.outcome) && Array.isArray(record.outcome.trials)) || (config.magic === 'sweep') || (isObject(config.space) && isObject(config.base))) return 'sweep';
  const magic = config.magic;
  return magic === 'adapter' || magic === 'continual' || magic === 'hypernet' ? magic : 'experiment';
}

/**
 * What the method column shows: the adapter method (`lora`), the continual strategy (`ewc`), the
 * hypernetwork's mode (`hypernet · continual`), the sweep's algorithm over its trial magic
 * (`asha · adapter`), else the magic's name.
 */
export function experimentMethod(record: Pick<RunRecord, 'config'> & { outcome?: unknown }): string {
  const config = isObject(record.config) ? record.config : {};
  const name = (v: unknown): string | undefined => (typeof v === 'string' ? v : isObject(v) && typeof v.name === 'string' ? v.name : undefined);
  switch (experimentKind(record)) {
    case 'sweep': {
      const algorithm = name(config.algorithm) ?? 'random';
      return typeof config.magic === 'string' && config.magic !== 'sweep' ? `${algorithm} · ${config.magic}` : algorithm;
    }
    case 'continual':
      return name(config.strategy) ?? 'continual';
    case 'hypernet':
      return typeof config.learn === 'string' ? `hypernet · ${config.learn}` : 'hypernet';
    default: {
      const adapter = config.adapter;
      if (isObject(adapter) && typeof adapter.method === 'string') return adapter.method;
      return typeof config.magic === 'string' ? config.magic : '';
    }
  }
}
