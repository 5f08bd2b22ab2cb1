/**
 * The adapter methods by name. The built-in ones are registered here; a new method (one file
 * implementing {@link AdapterMethod}) joins with {@link registerAdapterMethod}.
 */
import type { AdapterMethod } from './method.js';
import type { BaseAdapterConfig } from './config.js';
import { closestKey } from './config.js';
import { lora } from './lora.js';
import { dora } from './dora.js';
import { vera } from './vera.js';
import { ia3 } from './ia3.js';
import { bottleneck } from './bottleneck.js';
import { adalora } from './adalora.js';
import { randlora } from './randlora.js';
import { nola } from './nola.js';
import { flora } from './flora.js';
import { mtlora } from './mtlora.js';
import { parallelAdapter } from './mam-adapter.js';
import { increlora } from './increlora.js';
import { triadaptlora } from './triadaptlora.js';

const methods = new Map<string, AdapterMethod<any>>();

/** Adds (or replaces) a method under its `name`. */
export function registerAdapterMethod<C extends BaseAdapterConfig>(method: AdapterMethod<C>): void {
  methods.set(method.name, method as AdapterMethod<any>);
}

for (const method of [lora, dora, vera, ia3, bottleneck, adalora, randlora, nola, flora, mtlora, parallelAdapter, increlora, triadaptlora] as AdapterMethod<any>[]) registerAdapterMethod(method);

/** The names of the registered methods. */
export function adapterMethodNames(): string[] {
  return [...methods.keys()];
}

/** The method registered under `name`; throws with a suggestion when there is none. */
export function getAdapterMethod(name: string): AdapterMethod<any> {
  const method = methods.get(name);
  if (method) return method;
  const suggestion = closestKey(name, [...methods.keys()]);
  throw new Error(`unknown adapter method '${name}'${suggestion ? ` — did you mean '${suggestion}'?` : ''} (have: ${[...methods.keys()].join(', ')})`);
}

/** The registered method with PEFT's `peft_type` (LoRA's is `'LORA'`; DoRA shares it), or undefined. */
/** The `peft_type`s of the registered methods (for messages), without repeats. */
export function knownPeftTypes(): string[] {
  return [...new Set([...methods.values()].map((m) => m.peftType).filter((t): t is string => typeof t === 'string'))];
}

export function methodOfPeftType(peftType: unknown): AdapterMethod<any> | undefined {
  for (const method of methods.values()) if (method.peftType === peftType) return method;
  return undefined;
}

/** Every param key a registered method owns (`lora_A`, `ia3_l`, `vera_A`…). */
export function adapterParamKeys(): Set<string> {
  const keys = new Set<string>();
  for (const method of methods.values()) for (const key of method.paramKeys) keys.add(key);
  return keys;
}

/** The method a raw config names: `method`, with PEFT's `useDora: true` on a LoRA config meaning DoRA. */
export function methodOfConfig(raw: unknown): AdapterMethod<any> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new TypeError(`adapter config must be an object, got ${raw === null ? 'null' : typeof raw}`);
  const record = raw as Record<string, unknown>;
  if (typeof record.method !== 'string') {
    throw new Error(`adapter config needs a 'method' (one of ${[...methods.keys()].map((k) => `'${k}'`).join(', ')}), e.g. loraConfig({ … })`);
  }
  if (record.method === 'lora' && record.useDora === true) return getAdapterMethod('dora');
  return getAdapterMethod(record.method);
}
