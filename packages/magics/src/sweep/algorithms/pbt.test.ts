import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SweepRandom } from '../seeded-random.js';
import { categoryIndex, parseSearchSpace, sample, type CategoricalDimension } from '../space.js';
import { createAlgorithm, explore, type Decision, type TrialPlan } from './index.js';
import { runSequentially } from './sequential.js';

const space = parseSearchSpace({ 'train.lr': { loguniform: [1e-4, 1], }, 'adapter.r': { choice: [2, 4, 8, 16] } });
const objective = { metric: 'score', mode: 'max' as const };

/**
 * A toy trial: the state x grows by gain(lr, r) per unit trained, best at lr = 1e-2 and r = 8;
 * the checkpoint is { x, t }; the score is x.
 */
function toyTrial(plan: TrialPlan, resumed: unknown): { metrics: Record<string, number>; checkpoint: { x: number; t: number } } {
  const start = (resumed as { x: number; t: number } | undefined) ?? { x: 0, t: 0 };
  const lr = plan.params['train.lr'] as number;
  const r = plan.params['adapter.r'] as number;
  const gain = 1 - (Math.log10(lr) + 2) ** 2 / 4 - Math.abs(Math.log2(r) - 3) / 4;
  const x = start.x + gain * (plan.budget! - start.t);
  return { metrics: { score: x }, checkpoint: { x, t: plan.budget! } };
}

function runPbt(seed: number, quantileFraction = 0.25): ReturnType<typeof runSequentially> {
  const pbt = createAlgorithm({ name: 'pbt', perturbationInterval: 1, maxT: 8, quantileFraction }, space, objective, { seed, trials: 8 });
  return runSequentially(pbt, toyTrial);
}

describe('PBT', () => {
  it('exploit copies a top-quantile member’s checkpoint and hyperparameters at the same segment; explore perturbs them', () => {
    const { steps } = runPbt(11);
    const scoreAt = new Map(steps.map((s) => [`${s.plan.trialId}#${s.plan.segment}`, s.result.metrics.score]));
    const paramsAt = new Map(steps.map((s) => [`${s.plan.trialId}#${s.plan.segment}`, s.plan.params]));
    let exploits = 0;
    for (const [i, step] of steps.entries()) {
      const exploit = step.decisions.find((d) => d.kind === 'exploit');
      if (!exploit) continue;
      exploits++;
      const { trialId, segment } = step.plan;
      const from = exploit.from!;
      assert.equal(from.segment, segment, 'compared at the same segment');
      // The donor is in the top quarter of the members that had finished this segment by then.
      const peers = steps.slice(0, i + 1).filter((s) => s.plan.segment === segment).map((s) => s.result.metrics.score).sort((a, b) => b - a);
      const q = Math.min(Math.ceil(peers.length * 0.25), Math.floor(peers.length / 2));
      assert.ok(scoreAt.get(`${from.trialId}#${segment}`)! >= peers[q - 1], `${from.trialId} is in the top ${q} of ${peers.length}`);
      assert.ok(step.result.metrics.score <= peers[peers.length - q], `${trialId} is in the bottom ${q}`);
      assert.deepEqual(exploit.params, paramsAt.get(`${from.trialId}#${segment}`), 'the donor’s hyperparameters are copied');
      const explored = step.decisions.find((d) => d.kind === 'explore')!;
      assert.deepEqual(explored.changes!.map((c) => c.before), [exploit.params!['train.lr'], exploit.params!['adapter.r']]);
      // The member's next segment resumes from the donor's checkpoint with the explored values.
      const next = steps.find((s) => s.plan.trialId === trialId && s.plan.segment === segment + 1)!;
      assert.deepEqual(next.plan.resumeFrom, from);
      assert.deepEqual(next.resumed, stepAt(steps, from).result.checkpoint, 'the donor’s checkpoint');
      assert.deepEqual(next.plan.params, explored.params);
    }
    assert.ok(exploits >= 4, `exploits happened (${exploits})`);
    // Members not exploited resume from their own checkpoint unchanged.
    for (const step of steps.filter((s) => s.plan.segment > 0)) {
      const previous = steps.find((s) => s.plan.trialId === step.plan.trialId && s.plan.segment === step.plan.segment - 1)!;
      if (!previous.decisions.some((d) => d.kind === 'exploit')) {
        assert.deepEqual(step.plan.resumeFrom, { trialId: step.plan.trialId, segment: step.plan.segment - 1 });
        assert.deepEqual(step.plan.params, previous.plan.params);
      }
    }
    assert.equal(steps.length, 8 * 8, 'every member trains 8 one-unit segments');
    assert.deepEqual(runPbt(11).steps.map((s) => s.plan), steps.map((s) => s.plan), 'deterministic for a seed');
  });

  it('on the toy objective, exploit/explore lift the population above the same members trained without it', () => {
    let withPbt = 0;
    let without = 0;
    for (const seed of [1, 2, 3, 4, 5]) {
      const final = (run: ReturnType<typeof runSequentially>): number[] => run.steps.filter((s) => s.plan.segment === 7).map((s) => s.result.metrics.score);
      const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
      withPbt += mean(final(runPbt(seed))) / 5;
      without += mean(final(runPbt(seed, 0))) / 5;
    }
    assert.ok(withPbt > without + 1, `mean final score with PBT ${withPbt.toFixed(2)} vs ${without.toFixed(2)} without`);
  });

  it('explore stays in bounds: numbers scaled by 0.8 or 1.2 and clipped, categories moved to a neighbour, or resampled', () => {
    const wide = parseSearchSpace({ lr: { loguniform: [1e-4, 1e-1] }, d: { uniform: [0, 0.3] }, k: { int: [1, 10] }, c: { choice: ['a', 'b', 'c'] }, g: { grid: [1, 2, 3, 4] } });
    const rng = new SweepRandom(9);
    const seen = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const before = sample(wide, rng);
      const resampleProbability = i < 200 ? 0 : 0.25;
      const { params, changes } = explore(wide, before, rng, { resampleProbability, perturbationFactors: [1.2, 0.8] });
      for (const change of changes) seen.add(change.how);
      assert.ok((params.lr as number) >= 1e-4 && (params.lr as number) <= 1e-1);
      assert.ok((params.d as number) >= 0 && (params.d as number) <= 0.3);
      assert.ok(Number.isInteger(params.k) && (params.k as number) >= 1 && (params.k as number) <= 10);
      for (const key of ['c', 'g']) {
        const dim = wide.dimensions.find((d) => d.key === key) as CategoricalDimension;
        assert.ok(categoryIndex(dim, params[key]) >= 0);
        if (resampleProbability === 0) assert.ok(Math.abs(categoryIndex(dim, params[key]) - categoryIndex(dim, before[key])) <= 1, 'adjacent');
      }
      if (resampleProbability === 0) {
        for (const key of ['lr', 'd']) {
          const dim = wide.dimensions.find((d) => d.key === key) as { low: number; high: number };
          const expected = [1.2, 0.8].map((f) => Math.min(dim.high, Math.max(dim.low, (before[key] as number) * f)));
          assert.ok(expected.includes(params[key] as number), `${key}: ${String(before[key])} → ${String(params[key])}`);
        }
      }
    }
    assert.deepEqual([...seen].sort(), ['resampled', 'scaled', 'shifted']);
  });

  it('mutate: explore changes only the listed keys (a shape such as the LoRA rank is copied by exploit, never perturbed); an unknown key is refused', () => {
    const pbt = createAlgorithm({ name: 'pbt', perturbationInterval: 1, maxT: 8, quantileFraction: 0.5, mutate: ['train.lr'] }, space, objective, { seed: 5, trials: 6 });
    const { steps } = runSequentially(pbt, toyTrial);
    const paramsAt = new Map(steps.map((s) => [`${s.plan.trialId}#${s.plan.segment}`, s.plan.params]));
    let exploits = 0;
    for (const step of steps) {
      const exploit = step.decisions.find((d) => d.kind === 'exploit');
      const explored = step.decisions.find((d) => d.kind === 'explore');
      if (!exploit) continue;
      exploits++;
      const donor = paramsAt.get(`${exploit.from!.trialId}#${exploit.from!.segment}`)!;
      const next = steps.find((s) => s.plan.trialId === step.plan.trialId && s.plan.segment === step.plan.segment + 1);
      if (next) assert.equal(next.plan.params['adapter.r'], donor['adapter.r'], 'the rank comes from the donor, unchanged');
      assert.ok(explored);
      assert.deepEqual((explored!.changes as Array<{ key: string }>).map((c) => c.key), ['train.lr']);
    }
    assert.ok(exploits > 0);
    assert.throws(() => createAlgorithm({ name: 'pbt', perturbationInterval: 1, mutate: ['train.momentum'] }, space, objective, { seed: 1, trials: 2 }), /mutate names "train\.momentum", which is not a key of the space/);
  });

  it('a failed member leaves the population; options out of range are refused', () => {
    const pbt = createAlgorithm({ name: 'pbt', perturbationInterval: 2, maxT: 4 }, space, objective, { seed: 1, trials: 2 });
    const a = pbt.next() as TrialPlan;
    const b = pbt.next() as TrialPlan;
    assert.deepEqual([a.budget, b.budget], [2, 2]);
    const failed: Decision[] = pbt.fail(a.trialId, 0, 'crashed');
    assert.equal(failed[0].kind, 'failed');
    pbt.tell({ trialId: b.trialId, segment: 0, metrics: { score: 1 } });
    const next = pbt.next() as TrialPlan;
    assert.deepEqual([next.trialId, next.segment, next.budget], [b.trialId, 1, 4]);
    assert.equal(pbt.next(), 'wait');
    pbt.tell({ trialId: b.trialId, segment: 1, metrics: { score: 2 } });
    assert.equal(pbt.next(), 'done');
    assert.throws(() => createAlgorithm({ name: 'pbt', perturbationInterval: 1, quantileFraction: 0.6 }, space, objective, { seed: 0, trials: 4 }), /quantileFraction must be in \[0, 0.5\]/);
  });
});

/** The step that ran a segment. */
function stepAt(steps: ReturnType<typeof runSequentially>['steps'], ref: { trialId: string; segment: number }): ReturnType<typeof runSequentially>['steps'][number] {
  return steps.find((s) => s.plan.trialId === ref.trialId && s.plan.segment === ref.segment)!;
}
