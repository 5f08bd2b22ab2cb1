import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSearchSpace } from '../space.js';
import { createAlgorithm } from './index.js';
import { rungBudgets } from './asha.js';
import { runSequentially } from './sequential.js';

const space = parseSearchSpace({ 'train.lr': { loguniform: [1e-4, 1e-1] } });
const objective = { metric: 'accuracy', mode: 'max' as const };

describe('ASHA', () => {
  it('rung budgets are r·η^k up to maxT, the top rung at maxT', () => {
    assert.deepEqual(rungBudgets(1, 3, 9), [1, 3, 9]);
    assert.deepEqual(rungBudgets(1, 3, 10), [1, 3, 10]);
    assert.deepEqual(rungBudgets(2, 2, 16), [2, 4, 8, 16]);
    assert.deepEqual(rungBudgets(1, 4, 3), [3]);
  });

  it('promotes exactly as the asynchronous rule says on a hand-worked example (η = 3, r = 1, maxT = 9, one trial at a time)', () => {
    // Each trial's quality; its accuracy at rung k is quality + 0.01·k.
    const quality: Record<string, number> = { t000: 0.5, t001: 0.9, t002: 0.3, t003: 0.6, t004: 0.95, t005: 0.2, t006: 0.7, t007: 0.4, t008: 0.1 };
    const asha = createAlgorithm({ name: 'asha', gracePeriod: 1, reductionFactor: 3, maxT: 9 }, space, objective, { seed: 1, trials: 9 });
    const { steps, closing } = runSequentially(asha, (plan) => ({ metrics: { accuracy: quality[plan.trialId] + 0.01 * plan.segment }, checkpoint: `${plan.trialId}@${plan.budget}` }));
    const ran = steps.map(({ plan }) => `${plan.trialId}#${plan.segment}:${plan.budget}${plan.resumeFrom ? `<${plan.resumeFrom.trialId}#${plan.resumeFrom.segment}` : ''}`);
    assert.deepEqual(ran, [
      't000#0:1',
      't001#0:1',
      't002#0:1', // rung 0 has 3 results: ⌊3/3⌋ = 1, the best (t001) is promotable
      't001#1:3<t001#0',
      't003#0:1', // ⌊4/3⌋ = 1: t001 already promoted, so a new configuration
      't004#0:1', // ⌊5/3⌋ = 1: t004 (0.95) is now the best of rung 0
      't004#1:3<t004#0',
      't005#0:1', // ⌊6/3⌋ = 2: t004, t001, both promoted
      't006#0:1',
      't007#0:1', // ⌊8/3⌋ = 2
      't008#0:1', // ⌊9/3⌋ = 3: t004, t001, t006 → t006 promotable
      't006#1:3<t006#0', // rung 1 now has 3 results: ⌊3/3⌋ = 1, t004 promotable to rung 2
      't004#2:9<t004#1',
    ]);
    // The promoted segments resumed from the trial's own checkpoint at the previous rung's budget.
    assert.deepEqual(steps.filter((s) => s.plan.segment > 0).map((s) => s.resumed), ['t001@1', 't004@1', 't006@1', 't004@3']);
    const promotions = steps.flatMap((s) => s.plan.decisions ?? []);
    assert.deepEqual(promotions.map((d) => [d.kind, d.trialId, d.rung, d.budget, d.at]), [
      ['promote', 't001', 1, 3, 3],
      ['promote', 't004', 1, 3, 6],
      ['promote', 't006', 1, 3, 11],
      ['promote', 't004', 2, 9, 12],
    ]);
    assert.match(promotions[2].reason, /ranked 3 of 9 at rung 0 \(accuracy 0.7\), within the top ⌊9\/3⌋ = 3: promoted to rung 1 \(budget 3\)/);
    // Everyone else is recorded as stopped where it ended, in trial order.
    assert.deepEqual(closing.map((d) => [d.kind, d.trialId, d.rung]), [
      ['stop', 't000', 0],
      ['stop', 't001', 1],
      ['stop', 't002', 0],
      ['stop', 't003', 0],
      ['stop', 't005', 0],
      ['stop', 't006', 1],
      ['stop', 't007', 0],
      ['stop', 't008', 0],
    ]);
    assert.match(closing[1].reason, /ranked 2 of 3 at rung 1, outside the top ⌊3\/3⌋ = 1/);
  });

  it('minimises too, and waits rather than starting more than `trials` configurations', () => {
    const asha = createAlgorithm({ name: 'asha', maxT: 4, reductionFactor: 2 }, space, { metric: 'loss', mode: 'min' }, { seed: 3, trials: 2 });
    const first = asha.next();
    const second = asha.next();
    assert.ok(typeof first === 'object' && typeof second === 'object');
    assert.equal(asha.next(), 'wait');
    asha.tell({ trialId: first.trialId, segment: 0, metrics: { loss: 2 } });
    assert.equal(asha.next(), 'wait', '⌊1/2⌋ = 0: nothing to promote, no configurations left');
    asha.tell({ trialId: second.trialId, segment: 0, metrics: { loss: 1 } });
    const promoted = asha.next();
    assert.ok(typeof promoted === 'object');
    assert.equal(promoted.trialId, second.trialId, 'the lower loss is promoted');
    assert.deepEqual([promoted.segment, promoted.budget], [1, 2]);
  });

  it('rejects options out of range, naming them', () => {
    assert.throws(() => createAlgorithm({ name: 'asha', reductionFactor: 1 }, space, objective, { seed: 0, trials: 4 }), /reductionFactor must be greater than 1/);
    assert.throws(() => createAlgorithm({ name: 'asha', gracePeriod: 10, maxT: 5 }, space, objective, { seed: 0, trials: 4 }), /maxT \(5\) must be at least gracePeriod \(10\)/);
    assert.throws(() => createAlgorithm('asha', space, objective, { seed: 0 }), /asha: the number of trials must be a positive integer/);
  });
});
