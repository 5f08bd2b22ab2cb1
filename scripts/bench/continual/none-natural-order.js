// Usage: node scripts/bench/continual/none-natural-order.js > scripts/bench/continual/results/none-natural-order.jsonl
// Task-IL None with the digits in their natural order (0/1, 2/3, …) vs the seeded order, same protocol as bench.js.
const core = require('../../../packages/core/dist/index.js');
(async () => {
  const info = await core.setBackend('node');
  for (const seed of [1, 2]) {
    const benchmark = core.splitMnist({ seed, returnTaskId: true, fixedClassOrder: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] });
    const rng = new core.Rng(seed);
    const model = core.mlp({ sizes: [784, 400, 400, core.scenarioOutputs(benchmark, 'task')] });
    const params = model.init(rng.fork('init'));
    const t0 = Date.now();
    const r = await core.runContinual({ benchmark, scenario: 'task', model, params, strategy: { name: 'naive' }, train: { iterations: 2000, batchSize: 128, optimizer: 'adam', lr: 0.001, betas: [0.9, 0.999], resetOptimizer: false }, seed, rng });
    console.log(JSON.stringify({ seed, classOrder: benchmark.classOrder, acc: r.metrics.acc, lastRow: r.matrix[4], wallSeconds: (Date.now() - t0) / 1000, backend: info.name }));
  }
})();
