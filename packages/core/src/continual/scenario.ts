/**
 * The three scenarios of van de Ven & Tolias (2019), "Three scenarios for continual learning"
 * (arXiv:1904.07734), as output layouts: which output unit a label trains and which units are
 * active (the softmax runs over them) when training or testing an experience.
 *
 * | benchmark          | task (Task-IL)                         | domain (Domain-IL)                   | class (Class-IL)                          |
 * | ---                | ---                                    | ---                                  | ---                                       |
 * | split              | 10 units; active: the experience's own | n per experience; label = position   | 10 units; active: the classes seen so far |
 * | permuted / rotated | 10·T units, a block per experience     | 10 units                             | 10·T units; active: the blocks seen so far |
 *
 * Units of a split stream follow the class order (unit k = the k-th class seen, as van de Ven's
 * relabelling), so "seen so far" is always a prefix. The task scenario needs task labels
 * (`returnTaskId: true`): at test time the experience tells which units are active.
 *
 * Evaluation in the class scenario runs over the classes seen so far (van de Ven); an experience
 * not yet trained (j > i, needed for the accuracy matrix's upper triangle and forward transfer)
 * is evaluated over all output units, and so is every experience at random initialisation.
 */
import type { Benchmark } from './benchmark.js';

/** Task-, domain- or class-incremental learning. */
export type Scenario = 'task' | 'domain' | 'class';

/** The scenarios. */
export const SCENARIOS: readonly Scenario[] = ['task', 'domain', 'class'];

/** A half-open range of output units `[lo, hi)`. */
export interface UnitRange {
  lo: number;
  hi: number;
}

/** Throws unless `scenario` is one of {@link SCENARIOS}. */
export function checkScenario(scenario: unknown): asserts scenario is Scenario {
  if (!SCENARIOS.includes(scenario as Scenario)) throw new Error(`continual: scenario must be one of ${SCENARIOS.map((s) => `'${s}'`).join(', ')}, got ${JSON.stringify(scenario)}`);
}

/** Units one experience's labels occupy in the task and class layouts (a block of the stream). */
function block(benchmark: Benchmark, experience: number): UnitRange {
  const n = benchmark.nClassesPerExperience;
  return { lo: experience * n, hi: (experience + 1) * n };
}

/** The model's output width the scenario needs (see the table in the file comment). */
export function scenarioOutputs(benchmark: Benchmark, scenario: Scenario): number {
  checkScenario(scenario);
  const T = benchmark.experiences.length;
  if (scenario === 'domain') return benchmark.nClassesPerExperience;
  return benchmark.kind === 'split' ? benchmark.nClasses : benchmark.nClassesPerExperience * T;
}

/** The output unit that label `label` of experience `experience` trains. */
export function unitOf(benchmark: Benchmark, scenario: Scenario, experience: number, label: number): number {
  const n = benchmark.nClassesPerExperience;
  if (benchmark.kind === 'split') {
    const position = benchmark.classOrder.indexOf(label);
    if (position < 0) throw new Error(`continual: label ${label} is not in the class order`);
    return scenario === 'domain' ? position % n : position;
  }
  return scenario === 'domain' ? label : experience * n + label;
}

/** A lookup table digit → unit for one experience (−1 for digits the experience lacks). */
export function unitTable(benchmark: Benchmark, scenario: Scenario, experience: number): Int32Array {
  const table = new Int32Array(benchmark.nClasses).fill(-1);
  for (const label of benchmark.experiences[experience].classes) table[label] = unitOf(benchmark, scenario, experience, label);
  return table;
}

/** The active units while training experience `experience`. */
export function trainRange(benchmark: Benchmark, scenario: Scenario, experience: number): UnitRange {
  if (scenario === 'domain') return { lo: 0, hi: benchmark.nClassesPerExperience };
  if (scenario === 'task') return block(benchmark, experience);
  return { lo: 0, hi: block(benchmark, experience).hi };
}

/**
 * The active units when testing experience `evaluated` after training experience `trained`
 * (−1: at initialisation). Class scenario: the classes seen so far, or every unit when
 * `evaluated` is not yet seen.
 */
export function evalRange(benchmark: Benchmark, scenario: Scenario, evaluated: number, trained: number): UnitRange {
  if (scenario !== 'class') return trainRange(benchmark, scenario, evaluated);
  if (evaluated > trained) return { lo: 0, hi: scenarioOutputs(benchmark, scenario) };
  return trainRange(benchmark, scenario, trained);
}

/** Throws, naming the option, when the benchmark cannot be run in the scenario. */
export function checkScenarioFits(benchmark: Benchmark, scenario: Scenario): void {
  checkScenario(scenario);
  if (scenario === 'task') {
    const labels = benchmark.experiences.map((e) => e.taskLabel);
    if (new Set(labels).size !== labels.length) {
      throw new Error(`continual: scenario 'task' needs a task label per experience, but the ${benchmark.name} experiences share task labels [${labels.join(', ')}]; build it with returnTaskId: true`);
    }
  }
}
