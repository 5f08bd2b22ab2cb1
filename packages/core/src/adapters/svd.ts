/**
 * A small truncated SVD in plain JavaScript, for PiSSA's initialisation (tfjs has no SVD).
 *
 * Method: one-sided Jacobi (Hestenes 1958; see Demmel & Veselić 1992, "Jacobi's method is more
 * accurate than QR"). For a matrix A (m×n, n ≤ m — the matrix or its transpose), plane rotations
 * are applied to pairs of columns until every pair is orthogonal; then the column norms are the
 * singular values, the normalised columns the left singular vectors, and the accumulated rotations
 * the right singular vectors. Each sweep costs O(m·n²); arithmetic is in double precision. Meant
 * for adapter-sized layers (hundreds of rows/columns), not for large matrices.
 */

/** The top `k` singular triplets of a row-major `rows × cols` matrix. */
export interface TruncatedSvd {
  /** Left singular vectors, row-major `rows × k`. */
  u: Float64Array;
  /** Singular values, descending, length `k`. */
  s: Float64Array;
  /** Right singular vectors transposed, row-major `k × cols`. */
  vt: Float64Array;
}

/**
 * The `k` largest singular values and vectors of `matrix` (row-major `rows × cols`), so that
 * `matrix ≈ u·diag(s)·vt`. Stops when every column pair's cosine is below `tol` (default 1e-12)
 * or after `maxSweeps` sweeps (default 60).
 */
export function truncatedSvd(matrix: ArrayLike<number>, rows: number, cols: number, k: number, tol = 1e-12, maxSweeps = 60): TruncatedSvd {
  if (matrix.length !== rows * cols) throw new Error(`truncatedSvd: expected ${rows}×${cols} = ${rows * cols} values, got ${matrix.length}`);
  if (!Number.isInteger(k) || k < 1 || k > Math.min(rows, cols)) throw new Error(`truncatedSvd: k must be in [1, ${Math.min(rows, cols)}], got ${k}`);
  const transposed = cols > rows;
  const m = transposed ? cols : rows;
  const n = transposed ? rows : cols;
  // Column-major work copy of A (m×n): column j at [j*m, (j+1)*m).
  const a = new Float64Array(m * n);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const value = matrix[i * cols + j];
      if (transposed) a[i * m + j] = value; // A = Mᵀ: A[j][i] = M[i][j], column i
      else a[j * m + i] = value;
    }
  }
  const v = new Float64Array(n * n); // column-major, starts as identity
  for (let j = 0; j < n; j++) v[j * n + j] = 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < m; i++) {
          const x = a[p * m + i];
          const y = a[q * m + i];
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= tol * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < m; i++) {
          const x = a[p * m + i];
          const y = a[q * m + i];
          a[p * m + i] = c * x - s * y;
          a[q * m + i] = s * x + c * y;
        }
        for (let i = 0; i < n; i++) {
          const x = v[p * n + i];
          const y = v[q * n + i];
          v[p * n + i] = c * x - s * y;
          v[q * n + i] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let sum = 0;
    for (let i = 0; i < m; i++) sum += a[j * m + i] ** 2;
    norms[j] = Math.sqrt(sum);
  }
  const order = Array.from({ length: n }, (_, j) => j).sort((x, y) => norms[y] - norms[x]).slice(0, k);
  // A = Ua·Σ·Vaᵀ with Ua = normalised columns of a, Va = v. M = A (u = Ua, vt = Vaᵀ) or M = Aᵀ (u = Va, vt = Uaᵀ).
  const u = new Float64Array(rows * k);
  const s = new Float64Array(k);
  const vt = new Float64Array(k * cols);
  order.forEach((j, r) => {
    s[r] = norms[j];
    const inv = norms[j] > 0 ? 1 / norms[j] : 0;
    if (!transposed) {
      for (let i = 0; i < rows; i++) u[i * k + r] = a[j * m + i] * inv;
      for (let i = 0; i < cols; i++) vt[r * cols + i] = v[j * n + i];
    } else {
      for (let i = 0; i < rows; i++) u[i * k + r] = v[j * n + i];
      for (let i = 0; i < cols; i++) vt[r * cols + i] = a[j * m + i] * inv;
    }
  });
  return { u, s, vt };
}
