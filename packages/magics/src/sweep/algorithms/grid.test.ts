import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSearchSpace } from '../space.js';
import { createAlgorithm, type TrialPlan } from './index.js';
import { runSequentially } from './sequential.js';

const space = parseSearchSpace({ 'adapter.r': { grid: [4, 8, 16] }, 'train.lr': { loguniform: [1e-4, 1e-1] }, 'train.batchSize': { grid: [32, 64] } });
const objective = { metric: 'accuracy', mode: 'max' as const };
const plans = (config: Parameters<typeof createAlgorithm>[0], trials?: number, seed = 5): TrialPlan[] =>
  runSequentially(createAlgorithm(config, space, objective, { seed, trials }), () => ({ metrics: { accuracy: 0.5 } })).steps.map((s) => s.plan);

describe('grid search', () => {
  it('runs every combination of the grid dimensions exactly once by default, and samples the rest', () => {
    const ran = plans('grid');
    assert.equal(ran.length, 6);
    assert.deepEqual(ran.map((p) => p.trialId), ['t000', 't001', 't002', 't003', 't004', 't005']);
    const combos = ran.map((p) => `${p.params['adapter.r']}/${p.params['train.batchSize']}`);
    assert.deepEqual([...combos].sort(), ['16/32', '16/64', '4/32', '4/64', '8/32', '8/64']);
    const lrs = ran.map((p) => p.params['train.lr'] as number);
    assert.ok(lrs.every((lr) => lr >= 1e-4 && lr <= 1e-1));
    assert.equal(new Set(lrs).size, 6, 'the other dimension is sampled per trial');
    assert.ok(ran.every((p) => p.segment === 0 && p.budget === undefined && p.resumeFrom === undefined));
  });

  it('more trials repeat the grid, fewer run its first combinations; the same seed gives the same plans', () => {
    const twice = plans('grid', 12);
    assert.deepEqual(twice.slice(6).map((p) => p.params['adapter.r']), twice.slice(0, 6).map((p) => p.params['adapter.r']));
    assert.deepEqual(plans('grid', 2).map((p) => [p.params['adapter.r'], p.params['train.batchSize']]), [[4, 32], [4, 64]]);
    assert.deepEqual(plans('grid'), plans('grid'));
  });
});

describe('random search', () => {
  it('is deterministic for a seed, differs across seeds, and a trial’s values do not depend on the budget', () => {
    const a = plans('random', 8);
    assert.deepEqual(a, plans('random', 8));
    assert.notDeepEqual(a.map((p) => p.params), plans('random', 8, 6).map((p) => p.params));
    assert.deepEqual(plans('random', 3).map((p) => p.params), a.slice(0, 3).map((p) => p.params));
    for (const p of a) {
      assert.ok([4, 8, 16].includes(p.params['adapter.r'] as number), 'grid dimensions are sampled like choice');
      assert.ok((p.params['train.lr'] as number) >= 1e-4 && (p.params['train.lr'] as number) <= 1e-1);
    }
  });

  it('records a failed trial and goes on', () => {
    const random = createAlgorithm('random', space, objective, { seed: 1, trials: 2 });
    const first = random.next() as TrialPlan;
    const decisions = random.fail(first.trialId, 0, 'out of memory');
    assert.deepEqual(decisions.map((d) => [d.kind, d.trialId, d.at]), [['failed', 't000', 1]]);
    assert.match(decisions[0].reason, /segment 0 failed: out of memory/);
    assert.equal((random.next() as TrialPlan).trialId, 't001');
    assert.equal(random.next(), 'done');
  });
});
