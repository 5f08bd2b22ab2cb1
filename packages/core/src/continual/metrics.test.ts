import { test } from 'node:test';
import assert from 'node:assert/strict';
import { continualMetrics } from './metrics.js';

const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} ≠ ${b}`);

test('continualMetrics: ACC, BWT, FWT, forgetting of a hand-computed 3×3 matrix, with Avalanche names', () => {
  const R = [
    [0.9, 0.1, 0.2],
    [0.6, 0.8, 0.3],
    [0.5, 0.7, 0.95],
  ];
  const b = [0.1, 0.15, 0.05];
  const m = continualMetrics(R, b, [100, 200, 100], [0, 1, 2]);
  close(m.acc, (0.5 + 0.7 + 0.95) / 3, 'ACC');
  // BWT: ((0.5 − 0.9) + (0.7 − 0.8)) / 2 = −0.25; forgetting its negative (first value minus last, not the max).
  close(m.bwt, -0.25, 'BWT');
  close(m.forgetting, 0.25, 'forgetting');
  assert.deepEqual(m.perExperienceForgetting.map((f) => Math.round(f * 1e12) / 1e12), [0.4, 0.1]);
  // FWT: ((R[0][1] − b1) + (R[1][2] − b2)) / 2 = ((0.1 − 0.15) + (0.3 − 0.05)) / 2 = 0.1.
  close(m.fwt, 0.1, 'FWT');
  const a = m.avalanche;
  close(a['Top1_Acc_Stream/eval_phase/test_stream'], (0.5 * 100 + 0.7 * 200 + 0.95 * 100) / 400, 'pooled accuracy weighs by test size');
  close(a['Top1_Acc_Exp/eval_phase/test_stream/Task001/Exp001'], 0.7, 'Top1_Acc_Exp');
  close(a['StreamForgetting/eval_phase/test_stream'], 0.25, 'StreamForgetting');
  close(a['StreamBWT/eval_phase/test_stream'], -0.25, 'StreamBWT');
  close(a['StreamForwardTransfer/eval_phase/test_stream'], 0.1, 'StreamForwardTransfer');
  close(a['ExperienceForgetting/eval_phase/test_stream/Task000/Exp000'], 0.4, 'ExperienceForgetting');
  close(a['ExperienceForwardTransfer/eval_phase/test_stream/Task002/Exp002'], 0.25, 'ExperienceForwardTransfer');
  assert.equal(a['ExperienceForgetting/eval_phase/test_stream/Task002/Exp002'], undefined, 'the last experience has no forgetting');
});

test('continualMetrics: forgetting uses the value right after training, not the best one', () => {
  // Exp 0: 0.9 after training it, 0.95 later (backward transfer), 0.7 at the end.
  const m = continualMetrics([
    [0.9, 0, 0],
    [0.95, 0.8, 0],
    [0.7, 0.8, 0.9],
  ]);
  close(m.perExperienceForgetting[0], 0.2, 'initial − last (max-based would give 0.25)');
  assert.ok(Number.isNaN(m.fwt), 'no FWT without randomInit');
  assert.equal(m.avalanche['StreamForwardTransfer/eval_phase/test_stream'], undefined);
});

test('continualMetrics: one experience has no BWT or forgetting; a non-square matrix throws', () => {
  const m = continualMetrics([[0.8]], [0.1]);
  close(m.acc, 0.8, 'ACC');
  assert.ok(Number.isNaN(m.bwt) && Number.isNaN(m.forgetting));
  assert.throws(() => continualMetrics([[0.1, 0.2]]), /row 0 has 2 entries, expected 1/);
  assert.throws(() => continualMetrics([]), /no rows/);
});
