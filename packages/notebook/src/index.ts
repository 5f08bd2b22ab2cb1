/** `@hyperlab/notebook`: the nbformat 4.x model, headless execution, verification, reports, and the `hyperlab` CLI. */
export * from './nbformat.js';
export * from './read.js';
export { officialSchema, schemaFileFor, type OfficialSchema } from './nbformat-schema.js';
export { findPython, jupyterPython, type PythonInfo, type PythonLookup } from './python.js';
export * from './kernelspec.js';
export * from './execute.js';
export { OutputCollector, type IopubMessage } from './outputs.js';
export * from './parameters.js';
export { Progress, progressBar, type ProgressStream } from './progress.js';
export * from './verify.js';
export { renderReport, writeReport, reportTitle, type ReportOptions } from './report.js';
export { formatRuns, runSummaries, type RunSummary, type RunsFormat } from './runs-table.js';
export { main, USAGE } from './cli.js';
