// Renders scripts/bench/sweep/bench.js's JSONL as the tables of docs/sweeps.md.   node render.js FILE HEADER
'use strict';
const fs = require('node:fs');
const rows = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const header = process.argv[3] ?? '';
const out = [header, ''];
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const quickRun = (rs) => rs.some((r) => r.quick);
const sd = (xs) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));

const engines = rows.filter((r) => r.part === 'engines');
if (engines.length) {
  const one = engines.find((r) => r.engine === 'local-1');
  const inline = engines.find((r) => r.engine === 'inline');
  const r0 = engines[0];
  out.push(`### Engines: one ${r0.trials}-trial random sweep, four ways (backend ${r0.backend})`, '');
  out.push('| engine | trials at once | wall time | speed-up over 1 local process | mean trial (training) | overhead per trial |', '| --- | ---: | ---: | ---: | ---: | ---: |');
  const names = { inline: 'inline (in this process, the reference)', 'local-1': 'local, 1 child process', 'local-2': 'local, 2 child processes', 'redis-2': 'Redis, 2 `hyperlab worker`s' };
  for (const r of engines) {
    const speedup = one ? (one.wallMs / r.wallMs).toFixed(2) + '×' : '—';
    out.push(`| ${names[r.engine] ?? r.engine} | ${r.concurrency} | ${(r.wallMs / 1000).toFixed(1)} s | ${speedup} | ${(mean(r.trialMs) / 1000).toFixed(2)} s | ${r.overheadMsPerTrial.toFixed(0)} ms |`);
  }
  const same = engines.every((r) => JSON.stringify(r.values) === JSON.stringify(engines[0].values));
  out.push('', `Overhead per trial = (wall time − the trials' own training time ÷ trials at once) ÷ trials: the engine's share (process start-up and TensorFlow.js loading for a new child, messages, Redis round trips, waiting on the slowest trial). Every engine found ${same ? 'the same accuracy for every trial, bit for bit' : 'different accuracies (see the raw results)'}${inline ? '' : ''}.`, '');
}

const algos = rows.filter((r) => r.part === 'algorithms');
if (algos.length) {
  const r0 = algos[0];
  const targets = quickRun(algos) ? [r0.target] : [0.85, 0.87, 0.89];
  out.push(`### Algorithms on the same budget (backend ${r0.backend})`, '');
  out.push(`| algorithm | configurations | best test accuracy (mean ± sd) | epochs trained (mean) | ${targets.map((t) => `epochs to ${t} (per seed)`).join(' | ')} |`, `| --- | ---: | ---: | ---: | ${targets.map(() => '---').join(' | ')} |`);
  for (const label of [...new Set(algos.map((r) => r.algorithm))]) {
    const rs = algos.filter((r) => r.algorithm === label).sort((a, b) => a.seed - b.seed);
    const best = rs.map((r) => r.best ?? 0);
    const toTarget = (r, t) => r.trace.find((p) => p.value !== undefined && p.value >= t)?.epochs ?? '—';
    out.push(`| ${label} | ${rs[0].trials} | ${(100 * mean(best)).toFixed(2)} ± ${(100 * sd(best)).toFixed(2)} % (n=${rs.length}) | ${mean(rs.map((r) => r.epochs)).toFixed(0)} | ${targets.map((t) => rs.map((r) => toTarget(r, t)).join(', ')).join(' | ')} |`);
  }
  out.push('', 'Epochs to a target: the epochs trained by the sweep (all trials so far) when some finished segment first reached that test accuracy; — means never within the budget.');
  out.push('');
}
process.stdout.write(out.join('\n') + '\n');
