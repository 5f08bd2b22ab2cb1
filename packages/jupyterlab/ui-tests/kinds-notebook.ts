/**
 * The small notebook the UI test makes for every experiment kind: a `%%continual` run, a
 * continual `%%hypernet` and a 2×2 grid `%%sweep` of `%%adapter` trials run inline, each on a few
 * hundred MNIST images (about ten seconds in all on WASM), so the panel's heatmap, compression
 * column and sweep trials, and verify of each kind, are checked without the example notebooks.
 */

/** Its file name in the server's root. */
export const KINDS_NOTEBOOK = 'kinds.ipynb';

/** The cells, in order. */
export const KINDS_CELLS = [
  '%seed 0\n%backend wasm',
  `%%continual --as cl
benchmark: { name: split-mnist, nExperiences: 5, train: 100, test: 50 }
scenario: task
model: { mlp: [784, 32, 10] }
strategy: { name: naive }
train: { iterations: 10, batchSize: 32, lr: 0.01, evalEvery: 10 }`,
  `%%hypernet --as hn
learn: continual
benchmark: { name: split-mnist, train: 100, test: 50 }
scenario: task
model: { mlp: [784, 16, 10] }
hypernetwork: { kind: chunked, layers: [16], chunkSize: 500, chunkEmbSize: 8, taskEmbSize: 8 }
train: { iterations: 10, batchSize: 32, lr: 0.01, evalEvery: 10 }`,
  `%%sweep --as sw
magic: adapter
base:
  model: { mlp: [784, 16, 10] }
  data: { dataset: mnist, train: 500, test: 200 }
  adapter: { method: full }
  train: { epochs: 2, lr: 0.01, batchSize: 32 }
space:
  train.lr: { grid: [0.003, 0.03] }
  model.mlp[1]: { grid: [8, 32] }
algorithm: grid
engine: inline`,
];

/** The notebook as nbformat 4.5 JSON, on the HyperLab kernel, without outputs. */
export function kindsNotebook(): string {
  const cells = KINDS_CELLS.map((source, i) => ({ cell_type: 'code', id: `kinds-${i}`, metadata: {}, execution_count: null, outputs: [], source }));
  const metadata = { kernelspec: { name: 'hyperlab', display_name: 'TypeScript (HyperLab)', language: 'typescript' }, language_info: { name: 'typescript' } };
  return JSON.stringify({ cells, metadata, nbformat: 4, nbformat_minor: 5 }, null, 1);
}
