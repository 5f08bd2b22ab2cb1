/**
 * Intrinsic-dimension subspace training (Li et al. 2018) and SAID (Aghajanyan et al. 2020):
 * `intrinsic.ts` (the `intrinsic` whole-model method, registered on import), the projections
 * (`projections.ts`: dense, sparse; `fastfood.ts` on `hadamard.ts`'s Walsh–Hadamard transform) and
 * the d_int90 search (`dint90.ts`).
 */
export { applyIntrinsic, intrinsicConfig, intrinsicMethod, type IntrinsicApplied, type IntrinsicConfig, type IntrinsicConfigInput, type IntrinsicModule } from './intrinsic.js';
export { denseProjection, makeProjection, materializeProjection, sparseEntries, sparseProjection, MAX_DENSE_ENTRIES, type SparseEntries } from './projections.js';
export { linearOperator, PROJECTIONS, type ProjectionKind, type SubspaceProjection } from './linear-operator.js';
export { drawFastfood, fastfoodProjection, type FastfoodDraw } from './fastfood.js';
export { fwht, hadamardFactors, hadamardMatrix, isPowerOfTwo, nextPowerOfTwo } from './hadamard.js';
export { dint90Search, logGrid, type Dint90Options, type Dint90Result, type Dint90Trial } from './dint90.js';
