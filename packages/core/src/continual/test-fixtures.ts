/**
 * Test fixtures for the continual tests: a tiny Split MNIST (few images per experience), a small
 * MLP for a scenario, and a {@link StrategyContext} to drive a strategy's hooks directly.
 */
import { Rng } from '../random.js';
import { mlp, type MlpModule } from '../nn/mlp.js';
import type { Params } from '../params/params.js';
import type { Benchmark } from './benchmark.js';
import { splitMnist } from './split-mnist.js';
import { scenarioOutputs, type Scenario } from './scenario.js';
import { RowFactory } from './rows.js';
import { continualLoss } from './continual-loss.js';
import type { StrategyContext } from './strategy.js';
import { validateTrainOptions, type ContinualTrainOptions } from './train-options.js';

/** Split MNIST, 5 experiences with task labels, `train`/`test` images each. */
export function tinySplitMnist(train = 40, test = 40, seed = 1): Benchmark {
  return splitMnist({ seed, returnTaskId: true, train, test });
}

/** A 784-hidden-outputs MLP for the scenario, and its params from `seed`. */
export function smallModel(benchmark: Benchmark, scenario: Scenario, seed = 7, hidden = 16): { model: MlpModule; params: Params } {
  const model = mlp({ sizes: [784, hidden, scenarioOutputs(benchmark, scenario)] });
  return { model, params: model.init(new Rng(seed).fork('init')) };
}

/** A strategy context over a benchmark, model and params. */
export function strategyContext(benchmark: Benchmark, scenario: Scenario, model: MlpModule, params: Params, train: Partial<ContinualTrainOptions> = {}, seed = 11): StrategyContext {
  const options = validateTrainOptions({ batchSize: 16, lr: 1e-3, iterations: 5, ...train });
  const outputs = scenarioOutputs(benchmark, scenario);
  return {
    benchmark,
    scenario,
    model,
    params,
    loss: continualLoss(outputs),
    rows: new RowFactory(benchmark, scenario, outputs, 784),
    rng: new Rng(seed).fork('strategy'),
    train: options,
    steps: () => options.iterations ?? 1,
  };
}
