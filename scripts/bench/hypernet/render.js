#!/usr/bin/env node
/**
 * Renders the hypernetwork benchmark's JSONL (bench.js) as a Markdown table: per method and
 * scenario, ACC (mean ± std over seeds, final accuracy averaged over the 5 tasks), BWT,
 * forgetting, seeds and time; the reference numbers beside them.
 *
 * Usage: node render.js RESULTS.jsonl "header line" [MIP.json]
 */
const fs = require('node:fs');

const [file, header = '', mipFile] = process.argv.slice(2);
const records = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const stats = (xs) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const s = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
  return { m, s };
};
const pct = ({ m, s }, n) => `${(100 * m).toFixed(2)}${n > 1 ? ` ± ${(100 * s).toFixed(2)}` : ''}`;
// chrhenning/posterior_replay_cl probabilistic/prob_mnist/README.rst ("the setup of von Oswald et al.").
const REFERENCE = {
  'HNET|task': '99.67 (HNET, MLP 400,400)',
  'HNET|class': '74.43 (HNET+ENT, MLP 400,400)',
  'EWC|task': '97.79 (EWC, small MLP, multi-head)',
  'EWC|class': '46.61 (EWC+ENT, small MLP)',
};
const lines = [header, '', '| method | scenario | ACC % | BWT % | forgetting % | seeds | s / run | reference ACC % |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
const groups = new Map();
for (const r of records) {
  const key = `${r.method}|${r.scenario}`;
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(r);
}
for (const [key, rs] of groups) {
  const [method, scenario] = key.split('|');
  const n = rs.length;
  const wall = stats(rs.map((r) => r.wallSeconds)).m;
  lines.push(`| ${method} | ${scenario === 'task' ? 'Task-IL' : 'Class-IL'} | ${pct(stats(rs.map((r) => r.metrics.acc)), n)} | ${pct(stats(rs.map((r) => r.metrics.bwt)), n)} | ${pct(stats(rs.map((r) => r.metrics.forgetting)), n)} | ${n} | ${wall.toFixed(0)} | ${REFERENCE[key] ?? '—'} |`);
}
const hnet = records.find((r) => r.count);
if (hnet) lines.push('', `Hypernetwork: ${hnet.count.hypernet} parameters (${hnet.count.taskEmbeddings} in task embeddings) generating ${hnet.count.target} (compression ratio ${hnet.count.compressionRatio.toFixed(3)}).`);
if (mipFile && fs.existsSync(mipFile)) {
  const mip = JSON.parse(fs.readFileSync(mipFile, 'utf8'));
  lines.push('', mip.header, '', '| parametrisation | final loss (mean ± std) | steps to loss < ' + mip.threshold + ' (per seed) | loss at steps ' + mip.checkpoints.join(' / ') + ' (mean) |', '| --- | --- | --- | --- |');
  for (const row of mip.rows) lines.push(`| ${row.label} | ${row.final.m.toExponential(2)} ± ${row.final.s.toExponential(2)} | ${row.stepsTo.map((s) => (s === null ? '—' : s)).join(', ')} | ${row.curve.map((v) => v.toExponential(2)).join(' / ')} |`);
}
process.stdout.write(`${lines.join('\n')}\n`);
