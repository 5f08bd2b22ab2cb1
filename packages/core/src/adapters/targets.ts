/**
 * Matching module paths against `targetModules`, with PEFT's rules: a list entry matches a module
 * whose dotted path equals it or ends with `.<entry>` (so `'q_proj'` matches `layers.0.self_attn.q_proj`);
 * list entries containing `*` or `?` are globs over the whole path (`*` within a segment, `**` across
 * segments); a single string is a regular expression that must match the whole path (PEFT's
 * `re.fullmatch` form); a RegExp is tested as given.
 */
import type { TargetModules } from './config.js';

function globToRegExp(glob: string): RegExp {
  const source = glob
    .split('**')
    .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^.]*').replace(/\?/g, '[^.]'))
    .join('.*');
  return new RegExp(`^${source}$`);
}

/** A predicate on module paths for one `targetModules` value. */
export function targetMatcher(targets: TargetModules): (path: string) => boolean {
  if (targets instanceof RegExp) return (path) => targets.test(path);
  if (typeof targets === 'string') {
    const whole = new RegExp(`^(?:${targets})$`);
    return (path) => whole.test(path);
  }
  const tests = targets.map((entry) => {
    if (/[*?]/.test(entry)) {
      const regex = globToRegExp(entry);
      return (path: string) => regex.test(path);
    }
    return (path: string) => path === entry || path.endsWith(`.${entry}`);
  });
  return (path) => tests.some((t) => t(path));
}

/** `targetModules` as text, for messages and `adapter_config.json`. */
export function describeTargets(targets: TargetModules): string | string[] {
  if (targets instanceof RegExp) return targets.source;
  return typeof targets === 'string' ? targets : [...targets];
}
