#!/usr/bin/env node
/**
 * Renders the Split MNIST results (JSONL from bench.js) as Markdown: average accuracy (mean ± sd
 * over seeds) per strategy and scenario beside van de Ven & Tolias's published numbers, and the
 * wall time per strategy × scenario. Usage: node render.js RESULTS.jsonl [HEADER-LINE]
 */
const fs = require('node:fs');

const [file, header = ''] = process.argv.slice(2);
const rows = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const SCENARIOS = ['task', 'domain', 'class'];
const TITLES = { task: 'Task-IL', domain: 'Domain-IL', class: 'Class-IL' };
// Van de Ven & Tolias (2019), arXiv:1904.07734, Split MNIST table (Task-IL / Domain-IL / Class-IL).
// The first five rows are a recollection the research note marks UNCONFIRMED.
const PUBLISHED = {
  None: [87.19, 59.21, 19.9],
  EWC: [98.64, 63.95, 20.01],
  'Online EWC': [99.12, 64.32, 19.96],
  SI: [99.09, 65.36, 19.99],
  LwF: [99.57, 71.5, 23.85],
  'DGR+distill': [99.61, 96.83, 91.79],
};
const UNCONFIRMED = new Set(['None', 'EWC', 'Online EWC', 'SI', 'LwF']);

const stats = (values) => {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, mean, sd };
};
const strategies = [...new Set(rows.map((r) => r.strategy))];
const cell = (strategy, scenario, pick) => {
  const values = rows.filter((r) => r.strategy === strategy && r.scenario === scenario).map(pick);
  return values.length ? stats(values) : undefined;
};

const lines = [];
if (header) lines.push(header, '');
const seeds = new Set(rows.map((r) => r.seed)).size;
const iterations = [...new Set(rows.map((r) => r.iterations))].join(', ');
lines.push(`Average test accuracy (%) over the 5 tasks after the last one, mean ± sd over the seeds run so far (n per cell; ${seeds} seed(s) in all), ${iterations} iterations per task, backend ${[...new Set(rows.map((r) => r.backend))].join(', ')}. Published: van de Ven & Tolias (2019), arXiv:1904.07734 (rows marked * are an unconfirmed recollection).`, '');
lines.push(`| strategy | ${SCENARIOS.map((s) => `${TITLES[s]} (ours) | ${TITLES[s]} (published)`).join(' | ')} |`);
lines.push(`| --- | ${SCENARIOS.map(() => '---: | ---:').join(' | ')} |`);
for (const strategy of strategies) {
  const cells = SCENARIOS.map((s, k) => {
    const c = cell(strategy, s, (r) => 100 * r.acc);
    // One seed has no spread to show: say n instead of a misleading ± 0.
    const ours = !c ? '–' : c.n > 1 ? `${c.mean.toFixed(2)} ± ${c.sd.toFixed(2)} (n=${c.n})` : `${c.mean.toFixed(2)} (n=1)`;
    const published = PUBLISHED[strategy] ? `${PUBLISHED[strategy][k].toFixed(2)}${UNCONFIRMED.has(strategy) ? '*' : ''}` : '–';
    return `${ours} | ${published}`;
  });
  lines.push(`| ${strategy} | ${cells.join(' | ')} |`);
}
lines.push('', 'Wall time per run (s, mean over seeds; training, strategy work such as the Fisher or the VAE, and evaluation):', '');
lines.push(`| strategy | ${SCENARIOS.map((s) => TITLES[s]).join(' | ')} |`, `| --- | ${SCENARIOS.map(() => '---:').join(' | ')} |`);
for (const strategy of strategies) {
  lines.push(`| ${strategy} | ${SCENARIOS.map((s) => cell(strategy, s, (r) => r.wallSeconds)?.mean.toFixed(1) ?? '–').join(' | ')} |`);
}
process.stdout.write(`${lines.join('\n')}\n`);
