/**
 * The magics in a real kernel over ZeroMQ: loaded by default, %%adapter end to end (table, live
 * updates, figure with its SVG fallback, run record, `--as` variable with its type), the same run in
 * a fresh kernel giving the same record (determinism across processes), config errors that leave
 * the kernel running, %%experiment, %runs, %compare, %seed, %backend, and an interrupt mid-training.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchKernel, streamText, first, type LaunchedKernel, type Message } from '@hyperlab/kernel';
import { RUN_RECORD_MIME, validateRunRecord, type RunRecord } from '@hyperlab/core/runs';
import { nativeBackendProblem } from '@hyperlab/core';

const adapterCell = (name: string, method: string, extra = ''): string => `%%adapter --as ${name}
model:
  mlp: [20, 32, 2]
data:
  dataset: sum-greater-than
  train: 400
  test: 200
adapter:
  method: ${method}
  targetModules: ['0']
  modulesToSave: ['1']${extra}
train:
  epochs: 3
  batchSize: 32
  lr: 0.01
`;

const records = (iopub: Message[]): RunRecord[] =>
  iopub.filter((m) => m.header.msg_type === 'display_data' && (m.content.data as Record<string, unknown>)[RUN_RECORD_MIME]).map((m) => (m.content.data as Record<string, RunRecord>)[RUN_RECORD_MIME]);

const text = (m: Message | undefined): string => String((m?.content.data as Record<string, unknown> | undefined)?.['text/plain'] ?? '');

describe('magics in a real kernel', () => {
  let dir: string;
  let kernel: LaunchedKernel;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hyperlab-magics-'));
    kernel = await launchKernel({ cwd: dir });
  });
  after(async () => {
    await kernel.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  let lora: RunRecord;

  it('the kernel loads @hyperlab/magics at start', async () => {
    const out = streamText((await kernel.client.execute('%lsmagic')).iopub, 'stdout');
    for (const name of ['%%adapter', '%%continual', '%%hypernet', '%%experiment', '%seed', '%backend', '%runs', '%compare']) assert.ok(out.includes(name), `${name} in ${out}`);
  });

  it('%%adapter trains with live output and ends with a valid run record and a typed variable', async () => {
    const { reply, iopub } = await kernel.client.execute(adapterCell('lora', 'lora', '\n  r: 4'), { timeoutMs: 120_000 });
    assert.equal(reply.content.status, 'ok', JSON.stringify(reply.content));
    assert.match(streamText(iopub, 'stdout'), /trainable params: [\d,]+ \|\| all params: [\d,]+ \|\| trainable%/);
    const displays = iopub.filter((m) => m.header.msg_type === 'display_data');
    const updates = iopub.filter((m) => m.header.msg_type === 'update_display_data');
    const figure = displays.find((m) => (m.content.data as Record<string, unknown>)['application/vnd.plotly.v1+json']);
    assert.ok(figure, 'a figure');
    assert.match(String((figure.content.data as Record<string, unknown>)['image/svg+xml']), /^<svg/);
    const figureId = (figure.content.transient as { display_id: string }).display_id;
    const figureUpdates = updates.filter((m) => (m.content.transient as { display_id: string }).display_id === figureId);
    assert.ok(figureUpdates.length >= 1, 'the figure is updated in place');
    const last = figureUpdates.at(-1)!.content.data as Record<string, { data: Array<{ x: number[] }> }>;
    assert.equal(last['application/vnd.plotly.v1+json'].data[0].x.length, 39, 'the final update has every step (3 epochs × 13 batches)');
    [lora] = records(iopub);
    assert.ok(lora, 'a run record');
    assert.deepEqual(validateRunRecord(lora).errors, []);
    assert.equal(lora.name, 'lora');
    assert.equal((lora.config.adapter as Record<string, unknown>).method, 'lora');
    assert.equal((lora.config.adapter as Record<string, unknown>).loraAlpha, 8, 'defaults are recorded');
    assert.equal(lora.seed, 0);
    assert.equal(lora.backend.name, nativeBackendProblem() === undefined ? 'node' : 'wasm', "what setBackend('auto') picks");
    assert.equal(lora.metrics.steps, 39);
    assert.ok((lora.metrics.accuracy as number) > 0.6, `accuracy ${lora.metrics.accuracy}`);
    assert.deepEqual(lora.curves['test/accuracy'].step, [0, 13, 26, 39]);
    assert.equal(lora.data.length, 2);

    const check = await kernel.client.execute('const acc: number = lora.metrics.accuracy;\nconst width: number = lora.model.sizes[1];\n`${acc} ${width} ${lora.record.contentHash}`');
    assert.equal(streamText(check.iopub, 'stderr'), '', 'the variable is typed (no type errors)');
    assert.equal(text(first(check.iopub, 'execute_result')), `'${lora.metrics.accuracy} 32 ${lora.contentHash}'`);
  });

  it('the same cell in a fresh kernel gives the same record (metrics, curves, content hash)', async () => {
    const other = await launchKernel({ cwd: dir });
    try {
      const { iopub } = await other.client.execute(adapterCell('lora', 'lora', '\n  r: 4'), { timeoutMs: 120_000 });
      const [again] = records(iopub);
      assert.equal(again.contentHash, lora.contentHash);
      assert.deepEqual(again.metrics, lora.metrics);
      assert.deepEqual(again.curves, lora.curves);
      assert.notEqual(again.id, lora.id);
    } finally {
      await other.dispose();
    }
  });

  it('a config error names the cell line and key, and the kernel keeps its state', async () => {
    const { reply } = await kernel.client.execute(adapterCell('bad', 'lora', '\n  lora_alfa: 16'));
    assert.equal(reply.content.status, 'error');
    assert.equal(reply.content.ename, 'ConfigError');
    assert.match(String(reply.content.evalue), /cell line 12: unknown key "lora_alfa" in adapter — did you mean "loraAlpha"\?/);
    const missing = await kernel.client.execute(adapterCell('bad', 'lora', '\n  r: ${nosuchrank}'));
    assert.match(String(missing.reply.content.evalue), /cell line 12: \$\{nosuchrank\}: no notebook variable nosuchrank \(define it in a cell, or pass -p nosuchrank=VALUE to hyperlab run\)/);
    const traceback = (reply.content.traceback as string[]).join('\n');
    assert.doesNotMatch(traceback, /dist\//, 'no stack frames of the magic');
    const still = await kernel.client.execute('lora.name');
    assert.equal(text(first(still.iopub, 'execute_result')), "'lora'");
    const shape = await kernel.client.execute(adapterCell('bad', 'lora').replace('mlp: [20, 32, 2]', 'mlp: [784, 32, 2]'));
    assert.match(String(shape.reply.content.evalue), /cell line 3: model: the input width is 784 but sum-greater-than has 20 features per example/);
    const ref = await kernel.client.execute(adapterCell('bad', 'lora').replace(/model:\n  mlp: \[20, 32, 2\]/, 'model: nothere'));
    assert.match(String(ref.reply.content.evalue), /cell line 2: model: no run or variable named "nothere" \(runs so far: lora\)/);
  });

  it('${name} in a body takes a notebook variable (as hyperlab run -p injects them); snake_case keys are recorded camelCase', async () => {
    await kernel.client.execute('const rank = 2; const alphaOf = { lora: 6 };');
    const cell = adapterCell('interpolated', 'lora', '\n  r: ${rank}\n  lora_alpha: ${alphaOf.lora}').replace('epochs: 3', 'epochs: 1');
    const { reply, iopub } = await kernel.client.execute(cell, { timeoutMs: 120_000 });
    assert.equal(reply.content.status, 'ok', JSON.stringify(reply.content));
    const [record] = records(iopub);
    const adapter = record.config.adapter as Record<string, unknown>;
    assert.equal(adapter.r, 2);
    assert.equal(adapter.loraAlpha, 6);
    assert.equal('lora_alpha' in adapter, false);
    assert.equal(record.metrics.trainableParams, 2 * (20 + 32) + 32 * 2 + 2, 'rank 2 LoRA on layer 0 + the saved head');
  });

  it('%%continual: a live accuracy-matrix heatmap filled row by row, a record with the whole matrix, a typed variable', async () => {
    const cell = `%%continual --as stream
benchmark:
  name: split-mnist
  train: 120
  test: 60
scenario: class
model:
  mlp: [784, 32, 10]
strategy:
  name: replay
  mem_size: 100
train:
  iterations: 20
  batch_size: 32
  evalEvery: 10
`;
    const { reply, iopub } = await kernel.client.execute(cell, { timeoutMs: 180_000 });
    assert.equal(reply.content.status, 'ok', JSON.stringify(reply.content));
    const data = (m: Message): Record<string, any> => m.content.data as Record<string, any>;
    const heatmap = iopub.find((m) => m.header.msg_type === 'display_data' && data(m)['application/vnd.plotly.v1+json']?.data?.[0]?.type === 'heatmap');
    assert.ok(heatmap, 'a heatmap');
    const id = (heatmap.content.transient as { display_id: string }).display_id;
    const updates = iopub.filter((m) => m.header.msg_type === 'update_display_data' && (m.content.transient as { display_id: string }).display_id === id);
    const last = data(updates.at(-1)!)['application/vnd.plotly.v1+json'].data[0].z as Array<Array<number | null>>;
    assert.equal(last.length, 5);
    assert.ok(last.every((row) => row.every((v) => typeof v === 'number')), 'every row filled at the end');
    assert.match(String(data(updates.at(-1)!)['image/svg+xml']), /^<svg/);
    const [record] = records(iopub);
    assert.deepEqual(validateRunRecord(record).errors, []);
    assert.equal(record.config.magic, 'continual');
    assert.equal((record.config.strategy as Record<string, unknown>).memSize, 100, 'mem_size recorded as memSize');
    assert.equal((record.config.train as Record<string, unknown>).batchSize, 32);
    assert.deepEqual(Object.keys(record.curves).filter((k) => k.startsWith('matrix/')).sort(), ['matrix/exp0', 'matrix/exp1', 'matrix/exp2', 'matrix/exp3', 'matrix/exp4']);
    assert.equal(record.metrics.steps, 100);
    const matrix = await kernel.client.execute('console.log(JSON.stringify({ m: stream.matrix, acc: stream.metrics.acc, bwt: stream.metrics.bwt }))');
    const value = JSON.parse(streamText(matrix.iopub, 'stdout')) as { m: number[][]; acc: number; bwt: number };
    for (let j = 0; j < 5; j++) assert.deepEqual(record.curves[`matrix/exp${j}`].value.map(Number), value.m.map((row) => row[j]), `column ${j} of R is in the record`);
    const acc = value.m[4].reduce((a, b) => a + b, 0) / 5;
    assert.ok(Math.abs(acc - value.acc) < 1e-9, 'ACC is the mean of the last row');
    const bwt = [0, 1, 2, 3].reduce((sum, j) => sum + value.m[4][j] - value.m[j][j], 0) / 4;
    assert.ok(Math.abs(bwt - value.bwt) < 1e-9, 'BWT from R');
    assert.ok(Math.abs((record.metrics['Top1_Acc_Stream/eval_phase/test_stream'] as number) - value.acc) < 1e-12, "Avalanche's pooled stream accuracy (equal test sizes)");
    const typed = await kernel.client.execute('const rows: number = stream.matrix.length; rows');
    assert.equal(text(first(typed.iopub, 'execute_result')), '5');
    const naive = await kernel.client.execute(cell.replace('--as stream', '--as naive').replace('name: replay\n  mem_size: 100', 'name: naive'), { timeoutMs: 180_000 });
    assert.equal(naive.reply.content.status, 'ok', JSON.stringify(naive.reply.content));
    const compared = await kernel.client.execute('%compare stream naive');
    const plots = compared.iopub.filter((m) => m.header.msg_type === 'display_data').map((m) => data(m)['application/vnd.plotly.v1+json']).filter(Boolean);
    const bars = plots.find((p) => p.data[0].type === 'bar');
    assert.ok(bars, 'ACC/BWT/FWT/forgetting bars');
    assert.deepEqual(bars.data.map((t: { name: string }) => t.name), ['stream', 'naive']);
    assert.deepEqual(bars.data[0].x, ['ACC', 'BWT', 'FWT', 'FORGETTING']);
    assert.equal(bars.data[0].y[0], value.acc);
    assert.deepEqual(plots.filter((p) => p.data[0].type === 'scatter').map((p) => p.layout.title.text), ['test/accuracy'], 'the stream accuracy; the bars replace the loss curves');
    const bad = await kernel.client.execute(cell.replace('mlp: [784, 32, 10]', 'mlp: [784, 32, 2]'));
    assert.match(String(bad.reply.content.evalue), /cell line 8: model: the output width is 2 but class-incremental split-mnist with 5 experiences needs 10/);
  });

  it('%%hypernet: a hypernetwork on a continual stream (a continual record plus its size) and generated LoRA adapters on a frozen base', async () => {
    const stream = await kernel.client.execute(`%%hypernet --as hstream
learn: continual
benchmark: { name: split-mnist, train: 100, test: 50 }
scenario: task
model: { mlp: [784, 16, 10] }
hypernetwork: { kind: chunked, layers: [12], chunkSize: 4000, taskEmbSize: 4, chunk_emb_size: 4 }
beta: 0.05
train: { iterations: 20, batchSize: 32, evalEvery: 0 }
`, { timeoutMs: 180_000 });
    assert.equal(stream.reply.content.status, 'ok', JSON.stringify(stream.reply.content));
    const [record] = records(stream.iopub);
    assert.deepEqual(validateRunRecord(record).errors, []);
    assert.equal(record.config.magic, 'hypernet');
    assert.equal(record.config.learn, 'continual');
    assert.equal((record.config.strategy as Record<string, unknown>).name, 'hnet');
    assert.equal((record.config.strategy as Record<string, unknown>).beta, 0.05);
    assert.equal((record.config.hypernetwork as Record<string, unknown>).chunkEmbSize, 4, 'chunk_emb_size recorded as chunkEmbSize');
    const target = 784 * 16 + 16 + 16 * 10 + 10;
    assert.equal(record.metrics.targetParams, target);
    const chunks = Math.ceil(target / 4000);
    const hypernet = (4 + 4) * 12 + 12 + 12 * 4000 + 4000 + chunks * 4 + 5 * 4;
    assert.equal(record.metrics.hypernetParams, hypernet, 'generator + chunk embeddings + 5 task embeddings');
    assert.ok(Math.abs((record.metrics.compressionRatio as number) - hypernet / target) < 1e-12);
    assert.ok(record.curves['matrix/exp4'], 'the accuracy matrix is in the record');
    assert.match(streamText(stream.iopub, 'stdout'), /compression ratio \d\.\d{3}/);

    const base = await kernel.client.execute(`%%adapter --as mnistbase
model: { mlp: [784, 24, 2] }
data: { dataset: mnist, digits: [0, 1], train: 400, test: 100 }
adapter: { method: full }
train: { epochs: 1 }
`, { timeoutMs: 120_000 });
    assert.equal(base.reply.content.status, 'ok', JSON.stringify(base.reply.content));
    const adapters = await kernel.client.execute(`%%hypernet --as gen
learn: adapters
adapters: { base: mnistbase, tasks: [[2, 3], [4, 5]], targetModules: ['0'], r: 2, train: 200, test: 100 }
hypernetwork: { taskEmbSize: 4, layerEmbSize: 4, projectorHidden: 8, projectedSize: 4 }
train: { iterations: 40, batchSize: 32, lr: 0.003, evalEvery: 20 }
`, { timeoutMs: 120_000 });
    assert.equal(adapters.reply.content.status, 'ok', JSON.stringify(adapters.reply.content));
    const [generated] = records(adapters.iopub);
    assert.equal(generated.config.learn, 'adapters');
    assert.equal(generated.metrics.loraParamsPerTask, 2 * (784 + 24));
    assert.ok((generated.metrics['accuracy/task0'] as number) > 0.6 && (generated.metrics['accuracy/task1'] as number) > 0.6, JSON.stringify(generated.metrics));
    assert.deepEqual(generated.curves['test/accuracy/task1'].step, [0, 20, 40]);
    const materialized = await kernel.client.execute("const added = gen.materialize(1); [added.name, added.layers.join(',')].join(' ')");
    assert.equal(text(first(materialized.iopub, 'execute_result')), "'task1 0'", 'task 1 materialised as an ordinary LoRA adapter on layer 0');
    const regression = await kernel.client.execute(`%%hypernet --as sines
learn: regression
regression: { family: sine, tasks: 3, train: 64, test: 32 }
model: { mlp: [1, 8, 1] }
hypernetwork: { kind: full, layers: [6], taskEmbSize: 3, mip: true }
train: { iterations: 30, batchSize: 16, lr: 0.01, evalEvery: 15 }
`, { timeoutMs: 120_000 });
    assert.equal(regression.reply.content.status, 'ok', JSON.stringify(regression.reply.content));
    const [sines] = records(regression.iopub);
    assert.equal(sines.config.learn, 'regression');
    assert.equal(sines.metrics.targetParams, 1 * 8 + 8 + 8 * 1 + 1);
    const perTask = ['mse/task0', 'mse/task1', 'mse/task2'].map((k) => sines.metrics[k] as number);
    assert.ok(Math.abs((sines.metrics.mse as number) - perTask.reduce((a, b) => a + b, 0) / 3) < 1e-12, 'mse is the mean over tasks');
    assert.ok(sines.curves['test/mse/task2'].value[0] > sines.curves['test/mse/task2'].value.at(-1)!, 'training lowers the test error');
    const amplitudes = ((sines.config.regression as Record<string, unknown>).tasks as Array<Record<string, number>>).map((t) => t.amplitude);
    assert.equal(new Set(amplitudes).size, 3, 'each task has its own drawn amplitude, recorded');
    const narrow = await kernel.client.execute('%%hypernet\nlearn: regression\nmodel: { mlp: [2, 8, 1] }\n');
    assert.match(String(narrow.reply.content.evalue), /cell line 3: model: a 1-D regressor needs input and output width 1, got \[2, 8, 1\]/);
    const wrong = await kernel.client.execute(`%%hypernet
learn: adapters
adapters: { base: lora, tasks: [[2, 3]] }
`);
    assert.match(String(wrong.reply.content.evalue), /cell line 3: adapters\.base: "lora" carries lora adapters; start from a model without adapters/);
    const mixed = await kernel.client.execute(`%%hypernet
learn: adapters
scenario: task
adapters: { base: mnistbase, tasks: [[2, 3]] }
`);
    assert.match(String(mixed.reply.content.evalue), /unknown key "scenario"/);
  });

  it('%%adapter with AdaLoRA prunes ranks during training (its allocator runs in the loop)', async () => {
    const { reply, iopub } = await kernel.client.execute(adapterCell('ada', 'adalora', '\n  init_r: 4\n  target_r: 1\n  total_step: 39\n  tinit: 2\n  tfinal: 5'), { timeoutMs: 120_000 });
    assert.equal(reply.content.status, 'ok', JSON.stringify(reply.content));
    assert.match(streamText(iopub, 'stdout'), /AdaLoRA ranks after pruning \(budget 1 of 4\): 0\S*: 1/);
    const [record] = records(iopub);
    assert.equal((record.config.adapter as Record<string, unknown>).initR, 4);
  });

  it('%%experiment records the metrics a TypeScript cell ends with; %seed sets the seed', async () => {
    const seed = await kernel.client.execute('%seed 7');
    assert.equal(streamText(seed.iopub, 'stdout'), 'Seed: 7\n');
    const { reply, iopub } = await kernel.client.execute('%%experiment --as exp\nconst xs = [1, 2, 3];\n({ metrics: { mean: xs.reduce((a, b) => a + b) / xs.length }, config: { n: xs.length }, curves: { x: xs } })');
    assert.equal(reply.content.status, 'ok', JSON.stringify(reply.content));
    const [record] = records(iopub);
    assert.equal(record.seed, 7);
    assert.deepEqual(record.metrics, { mean: 2 });
    assert.deepEqual(record.config, { magic: 'experiment', n: 3 });
    assert.equal(text(first((await kernel.client.execute('exp.metrics.mean')).iopub, 'execute_result')), '2');
    const bad = await kernel.client.execute('%%experiment\n42');
    assert.match(String(bad.reply.content.evalue), /must end with an expression like/);
  });

  it('%runs lists the runs; %compare overlays curves and tables the config differences', async () => {
    const ia3 = await kernel.client.execute(adapterCell('ia3', 'ia3'), { timeoutMs: 120_000 });
    assert.equal(ia3.reply.content.status, 'ok', JSON.stringify(ia3.reply.content));
    const runs = await kernel.client.execute('%runs');
    const table = text(first(runs.iopub, 'display_data'));
    assert.match(table, /^11 runs\nrun +magic +method/);
    assert.match(table, /\nlora +adapter +lora/);
    assert.match(table, /\ninterpolated +adapter +lora/);
    assert.match(table, /\nia3 +adapter +ia3/);
    assert.match(table, /\nexp +experiment/);
    const { iopub } = await kernel.client.execute('%compare lora ia3');
    const shown = iopub.filter((m) => m.header.msg_type === 'display_data').map((m) => m.content.data as Record<string, any>);
    const figures = shown.filter((d) => d['application/vnd.plotly.v1+json']);
    assert.deepEqual(
      figures.map((d) => d['application/vnd.plotly.v1+json'].layout.title.text),
      ['test/accuracy', 'train/loss'],
    );
    assert.deepEqual(
      figures[0]['application/vnd.plotly.v1+json'].data.map((t: { name: string }) => t.name),
      ['lora', 'ia3'],
    );
    const diff = shown.map((d) => String(d['text/plain'])).find((t) => t.startsWith('Config differences'));
    assert.ok(diff, 'a config difference table');
    assert.match(diff, /\nadapter\.method +lora +ia3/);
    assert.match(diff, /\nadapter\.r +4 +—/);
    const wrong = await kernel.client.execute('%compare lora ia');
    assert.match(String(wrong.reply.content.evalue), /no run named "ia" — did you mean "ia3"\?/);
  });

  it('an interrupt stops training between steps, records nothing, and keeps the kernel', async () => {
    const running = kernel.client.execute(adapterCell('long', 'full').replace("  targetModules: ['0']\n  modulesToSave: ['1']\n", '').replace('epochs: 3', 'epochs: 100000'), { timeoutMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await kernel.client.request('control', 'interrupt_request', {});
    const { reply } = await running;
    assert.equal(reply.content.status, 'error');
    assert.equal(reply.content.ename, 'KeyboardInterrupt');
    const runs = await kernel.client.execute('%runs');
    assert.doesNotMatch(text(first(runs.iopub, 'display_data')), /\nlong /);
    assert.equal(text(first((await kernel.client.execute('lora.name')).iopub, 'execute_result')), "'lora'");
  });

  it('front-end magics: %magic_templates, %live_rate, %report', async () => {
    const templates = await kernel.client.execute('%magic_templates');
    const data = first(templates.iopub, 'display_data')?.content.data as Record<string, { magics: Array<{ name: string; template: string; schema: { properties: Record<string, unknown> } }> }>;
    const adapter = data['application/vnd.hyperlab.magics.v1+json'].magics.find((m) => m.name === 'adapter');
    assert.ok(adapter, 'the adapter magic is listed');
    assert.match(adapter.template, /^model:/);
    assert.deepEqual(Object.keys(adapter.schema.properties), ['model', 'data', 'adapter', 'train', 'seed']);
    const variants = (adapter as unknown as { variants: Array<{ key: string; template: string }> }).variants;
    assert.ok(['full', 'bitfit', 'lora', 'adalora', 'nola'].every((key) => variants.some((v) => v.key === key)), variants.map((v) => v.key).join(', '));
    assert.match(variants.find((v) => v.key === 'adalora')!.template, /^ {2}method: adalora\n(?:.*\n)* {2}totalStep: 79 /m);
    assert.match(text(first(templates.iopub, 'display_data')), /^ {4}lora: LoRA: /m);
    assert.equal(streamText((await kernel.client.execute('%live_rate 5')).iopub, 'stdout'), 'Live updates: at most 5 per second\n');
    assert.match(String((await kernel.client.execute('%live_rate fast')).reply.content.evalue), /expects a number from 0 to 30, got "fast"/);
    const nb = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'markdown', id: 'm', metadata: {}, source: '# Report test' }] };
    writeFileSync(path.join(dir, 'tiny.ipynb'), JSON.stringify(nb));
    const report = await kernel.client.execute('%report tiny.ipynb');
    assert.equal(report.reply.content.status, 'ok', JSON.stringify(report.reply.content));
    assert.match(streamText(report.iopub, 'stdout'), /^Report: .*tiny\.html\n$/);
    assert.match(readFileSync(path.join(dir, 'tiny.html'), 'utf8'), /Report test/);
    assert.match(String((await kernel.client.execute('%report missing.ipynb')).reply.content.evalue), /%report: .*missing\.ipynb/);
  });

  it('%backend switches and reports the backend', async () => {
    const cpu = await kernel.client.execute('%backend cpu');
    assert.match(streamText(cpu.iopub, 'stdout'), /^Backend: cpu \(tfjs 4\.22\.0\) — /);
    const wrong = await kernel.client.execute('%backend gpu');
    assert.match(String(wrong.reply.content.evalue), /%backend \(cell line 1\) expects one of wasm, cpu, node, auto, got "gpu"/);
    const back = await kernel.client.execute('%backend wasm');
    assert.match(streamText(back.iopub, 'stdout'), /^Backend: wasm \(SIMD (on|off), tfjs/);
  });
});
