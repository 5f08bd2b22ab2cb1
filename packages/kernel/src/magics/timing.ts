/**
 * Timing for `%time`, `%%time`, `%timeit` and `%%timeit`, in IPython's formats.
 */

/** Formats a duration in seconds with IPython's units (s, ms, µs, ns). */
export function formatDuration(seconds: number): string {
  if (seconds >= 1) return `${seconds.toPrecision(3)} s`;
  if (seconds >= 1e-3) return `${(seconds * 1e3).toPrecision(3)} ms`;
  if (seconds >= 1e-6) return `${(seconds * 1e6).toPrecision(3)} µs`;
  return `${(seconds * 1e9).toPrecision(3)} ns`;
}

/** Runs `work` once and reports CPU and wall time, like IPython's `%time`. */
export async function timeOnce<T>(work: () => Promise<T>): Promise<{ value: T; report: string }> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const value = await work();
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  const user = used.user / 1e6;
  const system = used.system / 1e6;
  const report = `CPU times: user ${formatDuration(user)}, sys: ${formatDuration(system)}, total: ${formatDuration(user + system)}\nWall time: ${formatDuration(wall)}`;
  return { value, report };
}

/** Options of `%timeit`: `-n` loops per run, `-r` runs. */
export interface TimeitOptions {
  number?: number;
  repeat?: number;
  signal?: AbortSignal;
}

/** Parses `-n 100 -r 3` style flags. */
export function parseTimeitFlags(flags: string): TimeitOptions {
  const options: TimeitOptions = {};
  const words = flags.split(/[\s=]+/).filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    const value = Number(words[i + 1]);
    if ((words[i] === '-n' || words[i] === '-r') && !(Number.isInteger(value) && value > 0)) {
      throw new Error(`%timeit ${words[i]} expects a positive whole number, got "${words[i + 1] ?? ''}"`);
    }
    if (words[i] === '-n') options.number = value;
    else if (words[i] === '-r') options.repeat = value;
    else continue;
    i++;
  }
  return options;
}

/**
 * Times `work` IPython-style: picks the loop count so one run takes at least 0.2 s (unless `-n`),
 * repeats `-r` times (7 by default), and reports mean ± standard deviation per loop.
 */
export async function timeit(work: () => Promise<unknown>, options: TimeitOptions = {}): Promise<{ mean: number; std: number; runs: number; loops: number; report: string }> {
  const measure = async (loops: number): Promise<number> => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < loops; i++) {
      if (options.signal?.aborted) throw new Error('interrupted');
      await work();
    }
    return Number(process.hrtime.bigint() - start) / 1e9;
  };
  let loops = options.number ?? 0;
  let first: number | undefined;
  if (!loops) {
    for (loops = 1; ; loops *= 10) {
      first = await measure(loops);
      if (first >= 0.2 || loops >= 1e7) break;
    }
  }
  const runs = options.repeat ?? 7;
  const times: number[] = first !== undefined ? [first / loops] : [];
  while (times.length < runs) times.push((await measure(loops)) / loops);
  const mean = times.reduce((sum, t) => sum + t, 0) / times.length;
  const std = Math.sqrt(times.reduce((sum, t) => sum + (t - mean) ** 2, 0) / times.length);
  const report = `${formatDuration(mean)} ± ${formatDuration(std)} per loop (mean ± std. dev. of ${runs} run${runs === 1 ? '' : 's'}, ${loops} loop${loops === 1 ? '' : 's'} each)`;
  return { mean, std, runs, loops, report };
}
