import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitPowerLaw, optimalPoints, predictPowerLaw } from './scaling.js';
import { SweepRandom } from './seeded-random.js';
import { studentTCdf, studentTQuantile } from './student-t.js';

/** Predictable Scale's fitted law, η_opt = 1.79 · N^-0.713 · D^0.307 (arXiv 2503.04715), as ground truth. */
const truth = { a: 1.79, alpha: -0.713, beta: 0.307 };
const Ns = [1e7, 3e7, 1e8, 3e8, 1e9];
const Ds = [1e9, 4e9, 1.6e10, 6.4e10];

/** Synthetic optimal learning rates on the N × D grid, with multiplicative log-normal noise σ. */
function lrData(rng: SweepRandom, sigma: number): { y: number[]; x: { N: number[]; D: number[] } } {
  const y: number[] = [];
  const N: number[] = [];
  const D: number[] = [];
  for (const n of Ns)
    for (const d of Ds) {
      N.push(n);
      D.push(d);
      y.push(truth.a * n ** truth.alpha * d ** truth.beta * Math.exp(sigma * rng.normal()));
    }
  return { y, x: { N, D } };
}

const inside = (ci: [number, number], value: number): boolean => ci[0] <= value && value <= ci[1];

describe('Student’s t', () => {
  it('matches tabulated quantiles and inverts its CDF', () => {
    const table: Array<[number, number, number]> = [
      [0.975, 1, 12.7062047362],
      [0.975, 2, 4.3026527297],
      [0.975, 5, 2.5705818366],
      [0.975, 10, 2.2281388520],
      [0.975, 30, 2.0422724563],
      [0.975, 1000, 1.9623390808],
      [0.995, 3, 5.8409093097],
      [0.9, 4, 1.5332062741],
    ];
    for (const [p, dof, expected] of table) assert.ok(Math.abs(studentTQuantile(p, dof) - expected) < 1e-8, `t(${p}, ${dof}) = ${studentTQuantile(p, dof)}`);
    assert.ok(Math.abs(studentTQuantile(0.025, 7) + studentTQuantile(0.975, 7)) < 1e-12, 'symmetric');
    assert.ok(Math.abs(studentTCdf(studentTQuantile(0.8, 3.5), 3.5) - 0.8) < 1e-12);
    assert.equal(studentTCdf(0, 9), 0.5);
  });
});

describe('power-law fits', () => {
  it('recover exact exponents from noiseless data (two variables), with R² = 1', () => {
    const fit = fitPowerLaw(lrData(new SweepRandom(0), 0));
    assert.ok(Math.abs(fit.exponents.N.value - truth.alpha) < 1e-9);
    assert.ok(Math.abs(fit.exponents.D.value - truth.beta) < 1e-9);
    assert.ok(Math.abs(fit.coefficient.value / truth.a - 1) < 1e-7);
    assert.ok(fit.r2 > 1 - 1e-12);
    assert.equal(fit.formula, 'y = 1.79 · N^-0.713 · D^0.307');
    assert.ok(Math.abs(predictPowerLaw(fit, { N: 2e8, D: 1e10 }) / (truth.a * 2e8 ** truth.alpha * 1e10 ** truth.beta) - 1) < 1e-7);
    assert.deepEqual(JSON.parse(JSON.stringify(fit)), fit, 'JSON-safe');
  });

  it('recover the exponents from noisy data, and the 95 % intervals cover the truth about 95 % of the time', () => {
    const rng = new SweepRandom(2025);
    const runs = 400;
    let coveredAlpha = 0;
    let coveredBeta = 0;
    let coveredA = 0;
    for (let r = 0; r < runs; r++) {
      const fit = fitPowerLaw(lrData(rng, 0.1));
      if (r === 0) {
        assert.equal(fit.dof, 20 - 3);
        assert.ok(Math.abs(fit.exponents.N.value - truth.alpha) < 0.05 && Math.abs(fit.exponents.D.value - truth.beta) < 0.05, fit.formula);
        assert.ok(fit.exponents.N.ci[1] - fit.exponents.N.ci[0] < 0.2);
      }
      if (inside(fit.exponents.N.ci, truth.alpha)) coveredAlpha++;
      if (inside(fit.exponents.D.ci, truth.beta)) coveredBeta++;
      if (inside(fit.coefficient.ci, truth.a)) coveredA++;
    }
    for (const [name, covered] of [['α', coveredAlpha], ['β', coveredBeta], ['a', coveredA]] as const) {
      // Binomial(400, 0.95): mean 380, sd ≈ 4.4; [360, 396] allows −4.6 to +3.7 sd (z instead of t would undercover, too wide would overcover).
      assert.ok(covered >= 360 && covered <= 396, `${name}: the 95 % interval covered the truth in ${covered} of ${runs} fits`);
    }
  });

  it('fit loss against compute in one variable (L = a·C^b)', () => {
    const rng = new SweepRandom(7);
    const C = [1e15, 3e15, 1e16, 3e16, 1e17, 3e17, 1e18];
    const L = C.map((c) => 2.6e3 * c ** -0.05 * Math.exp(0.01 * rng.normal()));
    const fit = fitPowerLaw({ y: L, x: { C } });
    assert.ok(inside(fit.exponents.C.ci, -0.05), JSON.stringify(fit.exponents.C));
    assert.ok(Math.abs(fit.exponents.C.value + 0.05) < 0.01);
    assert.equal(fit.dof, 5);
    assert.ok(fit.r2 > 0.9);
  });

  it('refuse non-positive values, too few points, mismatched lengths, and constant or collinear predictors, with a clear message', () => {
    assert.throws(() => fitPowerLaw({ y: [1, 2, 0, 4], x: { C: [1, 2, 3, 4] } }), /positive values: y\[2\] is 0/);
    assert.throws(() => fitPowerLaw({ y: [1, 2, 3, 4], x: { C: [1, -2, 3, 4] } }), /C\[1\] is -2/);
    assert.throws(() => fitPowerLaw({ y: [1, 2], x: { C: [1, 2] } }), /too few points: 2; a power law in 1 variable needs at least 3/);
    assert.throws(() => fitPowerLaw({ y: [1, 2, 3], x: { N: [1, 2, 3], D: [4, 5, 6] } }), /needs at least 4/);
    assert.throws(() => fitPowerLaw({ y: [1, 2, 3], x: { C: [1, 2] } }), /C has 2 values but y has 3/);
    assert.throws(() => fitPowerLaw({ y: [1, 2, 3, 4], x: { C: [5, 5, 5, 5] } }), /C is constant/);
    assert.throws(() => fitPowerLaw({ y: [1, 2, 3, 4, 5], x: { N: [1, 2, 3, 4, 5], D: [1, 4, 9, 16, 25] } }), /collinear/);
  });

  it('optimalPoints keeps the best row per group', () => {
    const rows = [
      { N: 1, D: 10, lr: 0.1, loss: 3 },
      { N: 1, D: 10, lr: 0.01, loss: 2 },
      { N: 2, D: 10, lr: 0.1, loss: 1 },
      { N: 2, D: 10, lr: 0.3, loss: Number.NaN },
      { N: 1, D: 20, lr: 0.05, loss: 2.5 },
    ];
    assert.deepEqual(optimalPoints(rows, { groupBy: ['N', 'D'], objective: { metric: 'loss', mode: 'min' } }).map((r) => r.lr), [0.01, 0.1, 0.05]);
    assert.deepEqual(optimalPoints(rows, { groupBy: ['N'], objective: { metric: 'loss', mode: 'max' } }).map((r) => r.lr), [0.1, 0.1]);
  });
});
