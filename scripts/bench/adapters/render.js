// Renders the JSON of bench.js (and, if given, peft_mlp.py) as the Markdown tables of
// docs/adapters.md.   node render.js BENCH.json [PEFT_MLP.json]
'use strict';
const fs = require('node:fs');

const bench = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const ref = process.argv[3] && fs.existsSync(process.argv[3]) && fs.statSync(process.argv[3]).size > 0 ? JSON.parse(fs.readFileSync(process.argv[3], 'utf8')) : undefined;
const fmt = (n) => n.toLocaleString('en-US');
const pct = (x) => `${(100 * x).toFixed(2)} %`;
const out = [];
const m = bench.mnist;
const s = m.settings;

out.push(`### MNIST 0–4 → 5–9 (MLP ${s.sizes.join('-')}, backend ${bench.backend.name})`, '');
out.push(
  `Pretrained ${s.pretrainEpochs} epochs on digits 0–4 (${fmt(m.sizes.pretrain)} images, Adam lr ${s.pretrainLr}, batch ${s.batchSize}) in ${m.pretrain.seconds.toFixed(1)} s: ` +
    `test accuracy ${pct(m.pretrain.testAcc04)} on 0–4, ${pct(m.pretrain.testAcc59Before)} on 5–9 (remapped) before adapting.`,
  `Each method then trains ${s.adaptEpochs} epochs on ${fmt(m.sizes.adaptTrain)} images of 5–9 (batch ${s.batchSize}, Adam); lr picked from {${s.lrGrid.join(', ')}} by accuracy on ${fmt(m.sizes.adaptVal)} held-out training images; test on the ${fmt(m.sizes.test)} test images of 5–9.`,
  '',
);
out.push('| method | trainable params | % of model | best lr | val acc | test acc (5–9) | wall time (train) | ms/step |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of m.rows) {
  if (r.failed) {
    out.push(`| ${r.method} | — | — | — | — | — | not run: ${r.failed.replace(/\|/g, '\\|').slice(0, 160)} | — |`);
    continue;
  }
  out.push(`| ${r.label} | ${fmt(r.trainable)} | ${r.percent.toFixed(2)} % | ${r.lr} | ${pct(r.valAcc)} | **${pct(r.testAcc)}** | ${r.seconds.toFixed(1)} s | ${r.msPerStep !== undefined ? r.msPerStep.toFixed(2) : '—'} |`);
}
out.push('', 'Every learning rate tried (test accuracy / wall time):', '');
out.push(`| method | ${s.lrGrid.map((lr) => `lr ${lr}`).join(' | ')} |`, `| --- | ${s.lrGrid.map(() => '---:').join(' | ')} |`);
for (const r of m.rows) if (!r.failed) out.push(`| ${r.label} | ${s.lrGrid.map((lr) => r.grid.find((g) => g.lr === lr)).map((g) => (g ? `${pct(g.testAcc)} / ${g.seconds.toFixed(1)} s` : 'not tried')).join(' | ')} |`);

const p = bench.peftMlp;
const ps = p.settings;
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
out.push('', `### PEFT's MLP example (MLP ${ps.sizes.join('-')}, "sum of 20 uniforms > 10")`, '');
out.push(
  `${ps.nTrain} train / ${ps.n - ps.nTrain} eval examples, batch ${ps.batchSize}, Adam lr ${ps.lr}, ${ps.epochs} epochs, fresh init, ${ps.seeds} seed(s) (data and init drawn per seed); ` +
    `LoRA r = ${ps.r} (α = 8) on layers 0 and 1, layer 2 in modulesToSave. Eval loss = mean of the per-batch mean cross-entropies, as the notebook prints it.`,
  '',
);
const name = { full: 'Full fine-tuning', lora: `LoRA r=${ps.r}` };
// One line per (implementation, method): final and lowest eval loss per seed, and their means.
const lines = [];
for (const method of ['full', 'lora']) {
  const rs = p.rows.filter((r) => r.method === method);
  lines.push({ who: 'HyperLab', method, trainable: rs[0].trainable, finals: rs.map((r) => r.final.batchMeanLoss), mins: rs.map((r) => r.minLoss), accs: rs.map((r) => r.final.acc), secs: rs.map((r) => r.seconds), curve: rs[0].curve });
}
if (ref) {
  for (const method of ['full', 'lora']) {
    const rs = ref.runs.map((run) => run[method]);
    lines.push({ who: `PyTorch ${ref.torch} + PEFT ${ref.peft} (${ref.threads} threads)`, method, trainable: rs[0].trainable, finals: rs.map((r) => r.final), mins: rs.map((r) => r.min), accs: rs.map((r) => r.acc), secs: rs.map((r) => r.seconds), curve: rs[0].curve });
  }
}
out.push(`| run | trainable params | eval loss, epoch ${ps.epochs}: per seed (mean) | lowest eval loss: per seed (mean) | eval acc, epoch ${ps.epochs} (mean) | wall time per run (train, mean) |`, '| --- | ---: | ---: | ---: | ---: | ---: |');
for (const l of lines) {
  out.push(`| ${l.who} ${name[l.method]} | ${fmt(l.trainable)} | ${l.finals.map((v) => v.toFixed(3)).join(', ')} (**${mean(l.finals).toFixed(3)}**) | ${l.mins.map((v) => v.toFixed(3)).join(', ')} (${mean(l.mins).toFixed(3)}) | ${pct(mean(l.accs))} | ${mean(l.secs).toFixed(1)} s |`);
}
out.push('', 'Eval loss per epoch, first seed (epochs 1–5, then every 5th):', '');
out.push(`| epoch | ${lines.map((l) => `${l.who.split(' ')[0]} ${name[l.method]}`).join(' | ')} |`, `| ---: | ${lines.map(() => '---:').join(' | ')} |`);
for (let e = 0; e < lines[0].curve.length; e++) {
  if (!(e < 5 || (e + 1) % 5 === 0)) continue;
  out.push(`| ${e + 1} | ${lines.map((l) => l.curve[e]?.toFixed(4) ?? '').join(' | ')} |`);
}
out.push('', `Registered adapter methods at run time: ${bench.methodsRegistered.join(', ')}. Total bench time ${bench.totalSeconds.toFixed(0)} s.`);
process.stdout.write(`${out.join('\n')}\n`);
