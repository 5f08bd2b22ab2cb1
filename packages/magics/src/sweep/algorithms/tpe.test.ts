import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSearchSpace } from '../space.js';
import { createAlgorithm, type AlgorithmConfig } from './index.js';
import { runSequentially } from './sequential.js';
import { categoricalParzen, logDensity, numericParzen } from './parzen.js';

const space = parseSearchSpace({ 'train.lr': { loguniform: [1e-5, 1e-1] }, 'adapter.loraDropout': { uniform: [0, 1] } });
const objective = { metric: 'loss', mode: 'min' as const };

/** A toy 2-D loss: a bowl in (log10 lr, dropout), minimum 0 at lr = 10^-3.7, dropout = 0.8. */
const toyLoss = (params: Record<string, unknown>): number => ((Math.log10(params['train.lr'] as number) + 3.7) / 4) ** 2 + ((params['adapter.loraDropout'] as number) - 0.8) ** 2;

function bestLoss(config: AlgorithmConfig, seed: number, trials = 40): number {
  const { steps } = runSequentially(createAlgorithm(config, space, objective, { seed, trials }), (plan) => ({ metrics: { loss: toyLoss(plan.params) } }));
  return Math.min(...steps.map((s) => s.result.metrics.loss));
}

describe('TPE', () => {
  it('is deterministic for a seed and starts with nStartup random trials', () => {
    const run = (seed: number) => runSequentially(createAlgorithm({ name: 'tpe', nStartup: 5 }, space, objective, { seed, trials: 12 }), (plan) => ({ metrics: { loss: toyLoss(plan.params) } })).steps;
    const a = run(4);
    assert.deepEqual(a.map((s) => s.plan), run(4).map((s) => s.plan));
    assert.notDeepEqual(a.map((s) => s.plan.params), run(5).map((s) => s.plan.params));
    assert.deepEqual(a.map((s) => s.plan.decisions?.[0]?.kind ?? 'random'), [...Array(5).fill('random'), ...Array(7).fill('suggest')]);
    assert.match(a[5].plan.decisions![0].reason, /best of 24 candidates .* with 5 completed trials split into 2 good and 3 bad/);
  });

  it('beats random search on a toy 2-D objective, on average over 8 seeds', () => {
    const seeds = [1, 2, 3, 4, 5, 6, 7, 8];
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const tpe = mean(seeds.map((seed) => bestLoss({ name: 'tpe', nStartup: 10 }, seed)));
    const random = mean(seeds.map((seed) => bestLoss('random', seed)));
    assert.ok(tpe < 0.5 * random, `mean best loss after 40 trials: TPE ${tpe.toExponential(2)}, random ${random.toExponential(2)}`);
  });

  it('learns a categorical dimension: after start-up it mostly proposes the good category', () => {
    const mixed = parseSearchSpace({ opt: { choice: ['sgd', 'adam', 'rmsprop', 'adagrad'] }, x: { uniform: [0, 1] } });
    const tpe = createAlgorithm({ name: 'tpe', nStartup: 8 }, mixed, objective, { seed: 2, trials: 40 });
    const { steps } = runSequentially(tpe, (plan) => ({ metrics: { loss: (plan.params.opt === 'adam' ? 0 : 1) + (plan.params.x as number) } }));
    const later = steps.slice(8).filter((s) => s.plan.params.opt === 'adam').length / (steps.length - 8);
    assert.ok(later > 0.6, `adam in ${(100 * later).toFixed(0)} % of model-based proposals`);
  });

  it('Parzen estimators are proper densities on [0, 1] with the prior smoothing them', () => {
    const estimator = numericParzen([0.1, 0.12, 0.7], 1);
    let integral = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) integral += Math.exp(logDensity(estimator, (i + 0.5) / n)) / n;
    assert.ok(Math.abs(integral - 1) < 1e-3, `integral ${integral}`);
    assert.ok(logDensity(estimator, 0.11) > logDensity(estimator, 0.4));
    const categorical = categoricalParzen([0, 0, 2], 4, 1);
    assert.deepEqual(categorical.probabilities, [2.25 / 4, 0.25 / 4, 1.25 / 4, 0.25 / 4]);
  });
});
