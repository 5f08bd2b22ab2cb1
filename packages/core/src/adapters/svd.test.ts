import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../random.js';
import { truncatedSvd } from './svd.js';

function check(rows: number, cols: number): void {
  const m = new Rng(rows * 31 + cols).fillNormal(new Float32Array(rows * cols));
  const k = Math.min(rows, cols);
  const { u, s, vt } = truncatedSvd(m, rows, cols, k);
  for (let i = 1; i < k; i++) assert.ok(s[i - 1] >= s[i]);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let sum = 0;
      for (let r = 0; r < k; r++) sum += u[i * k + r] * s[r] * vt[r * cols + j];
      assert.ok(Math.abs(sum - m[i * cols + j]) < 1e-5);
    }
  }
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      let uu = 0;
      let vv = 0;
      for (let i = 0; i < rows; i++) uu += u[i * k + a] * u[i * k + b];
      for (let j = 0; j < cols; j++) vv += vt[a * cols + j] * vt[b * cols + j];
      assert.ok(Math.abs(uu - (a === b ? 1 : 0)) < 1e-9 && Math.abs(vv - (a === b ? 1 : 0)) < 1e-9);
    }
  }
}

test('svd: one-sided Jacobi reconstructs tall, wide and square matrices with orthonormal factors', () => {
  check(7, 4);
  check(4, 9);
  check(6, 6);
});

test('svd: truncation keeps the largest singular values', () => {
  // diag(5, 3, 1) rotated: singular values known.
  const m = new Float32Array([0, 5, 0, 3, 0, 0, 0, 0, 1]);
  const { s } = truncatedSvd(m, 3, 3, 2);
  assert.deepEqual(Array.from(s, (v) => Math.round(v * 1e6) / 1e6), [5, 3]);
});
