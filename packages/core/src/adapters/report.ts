/**
 * Trainable-parameter report, PEFT's `print_trainable_parameters` line plus a per-module table.
 */
import { flatten, type Params } from '../params/params.js';
import { adapterParamKeys } from './registry.js';

/** Counts for one module. */
export interface ModuleCount {
  /** Trainable scalars. */
  trainable: number;
  /** All scalars. */
  all: number;
}

/** What {@link trainableParameters} returns. */
export interface TrainableReport {
  /** Trainable scalars. */
  trainable: number;
  /** All scalars. */
  all: number;
  /** 100 · trainable / all. */
  percent: number;
  /** Counts by module path ('' for root-level leaves such as VeRA's shared projections), in tree order. */
  byModule: Record<string, ModuleCount>;
}

/** The module a leaf belongs to: the path before its first adapter key (`0.lora_A.default.weight` → `0`), else its parent. */
export function moduleOfLeaf(path: string, keys: Set<string> = adapterParamKeys()): string {
  const parts = path.split('.');
  const index = parts.findIndex((part) => keys.has(part));
  return (index >= 0 ? parts.slice(0, index) : parts.slice(0, -1)).join('.');
}

/** Counts trainable and all scalars of `params`, overall and by module. */
export function trainableParameters(params: Params): TrainableReport {
  const keys = adapterParamKeys();
  const byModule: Record<string, ModuleCount> = {};
  let trainable = 0;
  let all = 0;
  for (const [path, leaf] of flatten(params)) {
    const entry = (byModule[moduleOfLeaf(path, keys)] ??= { trainable: 0, all: 0 });
    entry.all += leaf.size;
    all += leaf.size;
    if (leaf.trainable) {
      entry.trainable += leaf.size;
      trainable += leaf.size;
    }
  }
  return { trainable, all, percent: all > 0 ? (100 * trainable) / all : 0, byModule };
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/** PEFT's line (`trainable params: 1,234 || all params: 5,678 || trainable%: 21.7325`) and a per-module table. */
export function formatTrainableTable(report: TrainableReport): string {
  const lines = [`trainable params: ${fmt(report.trainable)} || all params: ${fmt(report.all)} || trainable%: ${report.percent.toFixed(4)}`];
  const rows = Object.entries(report.byModule).map(([module, c]) => [module || '(root)', fmt(c.trainable), fmt(c.all), c.all ? ((100 * c.trainable) / c.all).toFixed(2) : '0.00']);
  const header = ['module', 'trainable', 'all', 'trainable%'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  lines.push('', line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line));
  return lines.join('\n');
}
