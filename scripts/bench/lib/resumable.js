/**
 * What the long, resumable benchmarks (scripts/bench/continual, scripts/bench/hypernet) share:
 * their command-line options and the set of runs already in their JSONL results file.
 */
const fs = require('node:fs');
const path = require('node:path');

/**
 * `--quick`, `--seeds N` (default `defaultSeeds`, 1 with --quick), `--first-seed K`, `--backend`,
 * `--out FILE` (default `<dir>/results/{quick,full}.jsonl`) and `--only a,b`.
 */
function benchOptions(argv, dir, defaultSeeds) {
  const option = (name, fallback) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);
  const quick = argv.includes('--quick');
  const only = option('--only', '');
  return {
    quick,
    seeds: Number(option('--seeds', quick ? '1' : String(defaultSeeds))),
    firstSeed: Number(option('--first-seed', '1')),
    backend: option('--backend', 'auto'),
    out: option('--out', path.join(dir, 'results', quick ? 'quick.jsonl' : 'full.jsonl')),
    only: only ? only.split(',') : [],
  };
}

/** The keys (`keyOf(record)`) of the runs already in a JSONL file, so a re-run skips them. */
function finishedKeys(file, keyOf) {
  if (!fs.existsSync(file)) return new Set();
  return new Set(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => keyOf(JSON.parse(line))));
}

module.exports = { benchOptions, finishedKeys };
