/**
 * `%%experiment [--as NAME]`: plain TypeScript whose last expression is
 * `{ metrics, config?, curves?, data? }` — recorded like an experiment magic's run (run record, run
 * card, `%runs`, `%compare`, `hyperlab verify`). The code runs in the notebook's scope; `seed` in
 * the record is `%seed`'s (read it with `currentSeed()` from `@hyperlab/magics`).
 */
import type { CellMagic } from '@hyperlab/kernel/magics';
import type { RunData } from '@hyperlab/core/runs';
import { parseAsFlag, recordRun, type ExperimentOutcome } from '../experiment-magic.js';
import { ensureBackend, session } from '../session.js';
import { UsageError } from '../config/yaml-config.js';

/** What `--as NAME` holds after `%%experiment`: the returned object plus the run's name and record. */
export interface ExperimentRun {
  name: string;
  metrics: Record<string, number>;
  record: import('@hyperlab/core/runs').RunRecord;
  [key: string]: unknown;
}

const USAGE = 'the cell must end with an expression like ({ metrics: { accuracy }, config: { lr } })';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function curveOf(name: string, value: unknown): { step: number[]; value: number[] } {
  const numbers = (v: unknown): v is ArrayLike<number> => (Array.isArray(v) || ArrayBuffer.isView(v)) && Array.from(v as ArrayLike<unknown>).every((x) => typeof x === 'number');
  if (numbers(value)) return { step: Array.from(value, (_, i) => i), value: Array.from(value) };
  if (isRecord(value) && numbers(value.step) && numbers(value.value) && value.step.length === value.value.length) return { step: Array.from(value.step), value: Array.from(value.value) };
  throw new UsageError(`%%experiment: curves.${name} must be an array of numbers or { step: number[], value: number[] } of equal lengths`);
}

function dataOf(value: unknown, index: number): RunData {
  if (isRecord(value) && typeof value.fingerprint === 'function') {
    const dataset = value as { name?: unknown; size?: unknown; fingerprint: () => string };
    return { name: String(dataset.name ?? `data-${index}`), fingerprint: dataset.fingerprint(), size: Number(dataset.size ?? 0) };
  }
  if (isRecord(value) && typeof value.fingerprint === 'string' && /^[0-9a-f]{64}$/.test(value.fingerprint)) {
    return { name: String(value.name ?? `data-${index}`), fingerprint: value.fingerprint, size: Number(value.size ?? 0) };
  }
  throw new UsageError(`%%experiment: data[${index}] must be a dataset (with fingerprint()) or { name, fingerprint: <sha-256 hex>, size }`);
}

/** Turns the cell's value into an outcome, with errors naming the member at fault. */
export function outcomeOf(value: unknown, totalMs: number): ExperimentOutcome {
  if (!isRecord(value)) throw new UsageError(`%%experiment: ${USAGE}; got ${value === undefined ? 'no value' : typeof value}`);
  const { metrics, config = {}, curves = {}, data = [], ...rest } = value;
  if (!isRecord(metrics) || Object.keys(metrics).length === 0) throw new UsageError(`%%experiment: metrics must be a non-empty object of numbers; ${USAGE}`);
  for (const [name, metric] of Object.entries(metrics)) if (typeof metric !== 'number') throw new UsageError(`%%experiment: metrics.${name} must be a number, got ${typeof metric}`);
  if (!isRecord(config)) throw new UsageError('%%experiment: config must be an object');
  if (!isRecord(curves)) throw new UsageError('%%experiment: curves must be an object of curves');
  if (!Array.isArray(data)) throw new UsageError('%%experiment: data must be an array of datasets');
  return {
    config,
    metrics: metrics as Record<string, number>,
    curves: Object.fromEntries(Object.entries(curves).map(([name, curve]) => [name, curveOf(name, curve)])),
    data: data.map(dataOf),
    timings: { totalMs },
    value: { ...rest, config },
  };
}

/** `%%experiment`. */
export const experimentCellMagic: CellMagic = {
  kind: 'cell',
  name: 'experiment',
  bodyLanguage: 'typescript',
  help: 'Record the metrics a TypeScript cell ends with as a run: %%experiment [--as NAME]; the last expression is { metrics, config?, curves?, data? }.',
  async run(magic) {
    const variable = parseAsFlag(magic.argv, 'experiment', magic.line);
    const started = performance.now();
    const value = await magic.runCode(magic.body);
    const outcome = outcomeOf(value, performance.now() - started);
    const core = await import('@hyperlab/core');
    await ensureBackend(core);
    await recordRun(magic, {
      magicName: 'experiment',
      name: variable ?? session.nextName('experiment'),
      seed: session.seed,
      outcome,
      variable,
      variableType: 'import("@hyperlab/magics").ExperimentRun',
    });
  },
};
