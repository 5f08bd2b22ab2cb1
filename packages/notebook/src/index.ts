/** `@hyperlab/notebook`: the nbformat 4.x model and the run-record listing behind the `hyperlab` CLI. */
export * from './nbformat.js';
export { formatRuns, runSummaries, main, type RunSummary, type RunsFormat } from './cli.js';
