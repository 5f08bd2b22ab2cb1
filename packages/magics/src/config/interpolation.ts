/**
 * `${name}` in an experiment magic's YAML body: the value of a notebook variable, so that
 * `hyperlab run -p epochs=3` (which injects `const epochs = 3;`) reaches a config.
 *
 * - A scalar that is exactly `${name}` takes the variable's value with its type (a number stays a
 *   number, an array or object becomes YAML's own), so `epochs: ${epochs}` validates as an integer.
 * - `${name}` inside a longer string is replaced by the value as text: `name: run-${seed}`.
 * - `name` is a variable, optionally with property and index steps: `${cfg.lr}`, `${sizes[1]}`.
 * - `$${` writes a literal `${`.
 * - Inside a flow collection (`[…]`, `{…}`) quote it, since `{` and `}` are YAML indicators there:
 *   `mlp: [784, "${hidden}", 10]` (a quoted `"${name}"` still takes the value with its type).
 *
 * Only values are interpolated, never keys. The recorded config holds the resolved values.
 */
import { isPair, isSeq, visit, type Document, type Node, type Scalar } from 'yaml';

/** What `${…}` may contain: a variable with property and index steps. */
export const REFERENCE = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*|\[\d+\])*$/;

/** `${…}` (not preceded by another `$`). */
const PLACEHOLDER = /(\$?)\$\{([^}]*)\}/g;

/** One `${…}` that could not be resolved. */
export interface InterpolationProblem {
  /** Offset of the scalar in the body. */
  offset: number;
  /** What is wrong. */
  message: string;
}

/** Evaluates a reference in the notebook; throws (e.g. a ReferenceError) when it has no value. */
export type ResolveReference = (reference: string) => Promise<unknown>;

/** The `${…}` references of a string, in order (escaped `$${…}` excluded). */
export function references(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].filter((m) => m[1] === '').map((m) => m[2].trim());
}

function plainValue(value: unknown, reference: string): unknown {
  if (value === undefined) throw new Error(`\${${reference}} is undefined`);
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') throw new Error(`\${${reference}} is a ${typeof value}, not a config value`);
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`\${${reference}} is ${value}`);
  try {
    return JSON.parse(JSON.stringify(value));
  } catch (error) {
    throw new Error(`\${${reference}} cannot be written into a config (${(error as Error).message})`);
  }
}

/**
 * Replaces every `${…}` in `doc`'s scalar values (in place, keeping each node's position) with what
 * `resolve` gives. Returns the problems (unknown variable, bad reference), each at its scalar.
 */
export async function interpolate(doc: Document, resolve: ResolveReference): Promise<InterpolationProblem[]> {
  const targets: Array<{ node: Scalar; replace: (node: Node) => void }> = [];
  visit(doc, {
    Scalar(key, node, path) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('${')) return;
      const parent = path[path.length - 1];
      const replace = (next: Node): void => {
        if (isPair(parent)) parent.value = next;
        else if (isSeq(parent)) parent.items[Number(key)] = next;
        else doc.contents = next as never;
      };
      targets.push({ node, replace });
    },
  });
  const problems: InterpolationProblem[] = [];
  const cache = new Map<string, unknown>();
  const lookup = async (reference: string): Promise<unknown> => {
    if (!REFERENCE.test(reference)) throw new Error(`\${${reference}}: only a variable name with .property or [index] steps can be interpolated`);
    if (!cache.has(reference)) {
      let value: unknown;
      try {
        value = await resolve(reference);
      } catch (error) {
        const text = (error as Error).message ?? String(error);
        throw new Error(`\${${reference}}: ${/is not defined/.test(text) ? `no notebook variable ${reference.split(/[.[]/)[0]} (define it in a cell, or pass -p ${reference.split(/[.[]/)[0]}=VALUE to hyperlab run)` : text}`);
      }
      cache.set(reference, plainValue(value, reference));
    }
    return cache.get(reference);
  };
  for (const { node, replace } of targets) {
    const text = node.value as string;
    const offset = node.range?.[0] ?? 0;
    try {
      const whole = /^\$\{([^}]*)\}$/.exec(text);
      if (whole) {
        const value = await lookup(whole[1].trim());
        const next = doc.createNode(value) as Node;
        next.range = node.range;
        replace(next);
        continue;
      }
      let out = '';
      let last = 0;
      for (const match of text.matchAll(PLACEHOLDER)) {
        out += text.slice(last, match.index);
        last = match.index! + match[0].length;
        if (match[1] === '$') {
          out += `\${${match[2]}}`;
          continue;
        }
        const value = await lookup(match[2].trim());
        out += typeof value === 'string' ? value : JSON.stringify(value);
      }
      node.value = out + text.slice(last);
    } catch (error) {
      problems.push({ offset, message: (error as Error).message });
    }
  }
  return problems;
}
