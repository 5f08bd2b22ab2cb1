#!/usr/bin/env node
/**
 * Renders the intrinsic-dimension bench's JSONL (bench.js) as Markdown: the direct model, every
 * subspace dimension trained (the search's trace, sorted by d) with its accuracy, d_int90 beside
 * the paper's, and a chart of accuracy against d. Writes docs/intrinsic-dimension.md
 * (doc-intro.md, the results, doc-notes.md), or with --stdout only the results.
 *
 * Usage: node render.js RESULTS.jsonl [--command "bash …"] [--started "2025-… UTC"] [--stdout]
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const args = process.argv.slice(2);
const flag = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const file = args[0];
const root = path.resolve(__dirname, '..', '..', '..');
const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, shared with other long benchmarks), Node ${process.version}`;
const header = `Run: \`${flag('--command') ?? 'bash scripts/bench/intrinsic/run.sh'}\`${flag('--started') ? `, started ${flag('--started')}` : ''}, ${machine}. Raw results: \`${path.relative(root, path.resolve(file))}\`.`;
const records = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
const pct = (x) => (100 * x).toFixed(2);
const PAPER = { dint90: 750, D: 199210 };

const lines = [];
lines.push(header, '');
const seeds = [...new Set(records.map((r) => r.seed))].sort((a, b) => a - b);
if (seeds.length === 0) lines.push('No results yet.');
for (const seed of seeds) {
  const direct = records.find((r) => r.kind === 'direct' && r.seed === seed);
  const subspace = records.filter((r) => r.kind === 'subspace' && r.seed === seed).sort((a, b) => a.d - b.d);
  const search = records.find((r) => r.kind === 'search' && r.seed === seed);
  const first = subspace[0] ?? direct;
  lines.push(`### Seed ${seed}${first ? ` (${first.backend}, ${first.epochs} epoch${first.epochs === 1 ? '' : 's'}, ${first.trainSize} training / ${first.testSize} test images)` : ''}`, '');
  if (!direct) {
    lines.push('The direct model has not finished yet.', '');
    continue;
  }
  const target = 0.9 * direct.accuracy;
  const smallest = (t) => subspace.find((r) => r.accuracy >= t)?.d;
  const ours = search?.relative.dint90 ?? smallest(target);
  const oursAbs = search?.absolute.dint90 ?? smallest(0.9);
  const bracket = (s) => (s && s.lowerBound !== undefined ? ` (largest d that failed: ${s.lowerBound})` : '');
  lines.push('| | ours | Li et al. 2018 |', '| --- | --- | --- |');
  lines.push(`| parameters D | ${direct.parameterCount.toLocaleString('en-US')} | ${PAPER.D.toLocaleString('en-US')} |`);
  lines.push(`| direct (full) test accuracy | ${pct(direct.accuracy)} % (${direct.epochs} epoch${direct.epochs === 1 ? '' : 's'}, ${direct.wallSeconds.toFixed(0)} s) | 97.99 %, 98.11 % (two runs, 100 epochs) |`);
  lines.push(`| d_int90, target 0.9 × direct = ${pct(target)} % | ${ours ?? '—'}${search ? bracket(search.relative) : ' (search unfinished)'} | 600 and 650 (target 0.9 × 98 % = 88.2 %, read off the same two runs) |`);
  lines.push(`| first d reaching 90.00 % (the paper's reading: baseline 1.0) | ${oursAbs ?? '—'}${search ? bracket(search.absolute) : ' (search unfinished)'} | ${PAPER.dint90} (the reported d_int90) |`);
  lines.push('');
  lines.push('Every subspace dimension trained (in the order the search asked for them: ' + (search ? search.relative.order.concat(search.absolute.order.filter((d) => !search.relative.order.includes(d))).join(', ') : subspace.map((r) => r.d).join(', ')) + '):', '');
  lines.push('| d | projection | test accuracy | ≥ 0.9 × direct | ≥ 90 % | ms/step | wall time |', '| ---: | --- | ---: | :---: | :---: | ---: | ---: |');
  for (const r of subspace) {
    lines.push(`| ${r.d} | ${r.projection} | ${pct(r.accuracy)} % | ${r.accuracy >= target ? 'yes' : 'no'} | ${r.accuracy >= 0.9 ? 'yes' : 'no'} | ${r.msPerStep.toFixed(1)} | ${(r.wallSeconds / 60).toFixed(1)} min |`);
  }
  lines.push(`| ${direct.parameterCount.toLocaleString('en-US')} (direct) | — | ${pct(direct.accuracy)} % | | | ${direct.msPerStep.toFixed(1)} | ${(direct.wallSeconds / 60).toFixed(1)} min |`);
  lines.push('');
  if (subspace.length >= 2) {
    lines.push('```mermaid', 'xychart-beta', `  title "Test accuracy against subspace dimension d (seed ${seed})"`);
    lines.push(`  x-axis [${subspace.map((r) => r.d).join(', ')}]`);
    lines.push('  y-axis "test accuracy (%)" 0 --> 100');
    lines.push(`  line [${subspace.map((r) => pct(r.accuracy)).join(', ')}]`);
    lines.push(`  line [${subspace.map(() => pct(target)).join(', ')}]`);
    lines.push('```', '', `The second line is the target 0.9 × direct = ${pct(target)} %; the x axis is categorical (the d trained, in order).`, '');
  }
  const total = [direct, ...subspace].reduce((a, r) => a + r.wallSeconds, 0);
  lines.push(`Total training time for this seed: ${(total / 60).toFixed(1)} min.`, '');
}
const results = `${lines.join('\n')}\n`;
if (args.includes('--stdout')) process.stdout.write(results);
else {
  const part = (name) => (fs.existsSync(path.join(__dirname, name)) ? fs.readFileSync(path.join(__dirname, name), 'utf8').trimEnd() + '\n\n' : '');
  fs.writeFileSync(path.join(root, 'docs', 'intrinsic-dimension.md'), `${part('doc-intro.md')}## Results\n\n${results}${part('doc-notes.md') ? `\n${part('doc-notes.md')}` : ''}`.trimEnd() + '\n');
  process.stderr.write('render.js: wrote docs/intrinsic-dimension.md\n');
}
