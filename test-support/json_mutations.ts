// Random structural changes to a JSON document, for the fuzz suites of the loaders that read
// JSON files (experiment files, model.json): a field deleted, replaced, retyped, renamed or
// added, a list repeated or grown, a value nested deep. Each suite passes its own keys and
// values (the names its loader must refuse or accept).
import fc from 'fast-check';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Sets an own property, even `__proto__` (which plain assignment would turn into a prototype change). */
export function define(target: Json[] | { [key: string]: Json }, key: string | number, value: Json): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A deep copy (own `__proto__` keys kept, as JSON.parse keeps them). */
export const copy = (value: Json): Json => JSON.parse(JSON.stringify(value)) as Json;

/** A place in a JSON tree: a key of its parent object or list. */
export interface Slot {
  parent: Json[] | { [key: string]: Json };
  key: string | number;
  /** Keys from the top level to it (0 for the top level itself). */
  depth: number;
}

/** Every place of the tree in `root.value`, the top level first, breadth first. */
export function slots(root: { value: Json }): Slot[] {
  const out: Slot[] = [{ parent: root as unknown as { [key: string]: Json }, key: 'value', depth: 0 }];
  for (let i = 0; i < out.length; i++) {
    const s = out[i] as Slot;
    const v = valueAt(s);
    if (v !== null && typeof v === 'object') {
      for (const k of Array.isArray(v) ? v.keys() : Object.keys(v)) out.push({ parent: v, key: k, depth: s.depth + 1 });
    }
  }
  return out;
}

/** The value at a slot. */
export const valueAt = (s: Slot): Json => (s.parent as Record<string | number, Json>)[s.key] as Json;

/** How many levels of objects and lists `v` has (0 for a number, string, boolean or null). */
export function jsonDepth(v: Json): number {
  let deepest = 0;
  const stack: [Json, number][] = [[v, 0]];
  while (stack.length > 0) {
    const [x, d] = stack.pop() as [Json, number];
    if (x === null || typeof x !== 'object') continue;
    deepest = Math.max(deepest, d + 1);
    for (const child of Object.values(x)) stack.push([child, d + 1]);
  }
  return deepest;
}

/** One change, at the slot `at` picks (modulo the number of slots when it applies). */
export type Mutation =
  | { kind: 'delete'; at: number }
  | { kind: 'replace'; at: number; value: Json }
  | { kind: 'retype'; at: number; how: number }
  | { kind: 'add'; at: number; key: string; value: Json }
  | { kind: 'rename'; at: number; key: string }
  | { kind: 'repeat'; at: number }
  | { kind: 'grow'; at: number; length: number }
  | { kind: 'nest'; at: number; depth: number; object: boolean };

/** What mutations draw from. */
export interface MutationSources {
  /** Keys a mutation adds or renames to. */
  keys: fc.Arbitrary<string>;
  /** Values a mutation puts in. */
  values: fc.Arbitrary<Json>;
  /** Lengths a list grows to. */
  lengths: fc.Arbitrary<number>;
  /** Levels of lists or objects a value is wrapped in. */
  depths: fc.Arbitrary<number>;
}

/** Random mutations drawing from `sources`. */
export function mutationArb(sources: MutationSources): fc.Arbitrary<Mutation> {
  const at = fc.nat();
  return fc.oneof(
    fc.record({ kind: fc.constant('delete' as const), at }),
    fc.record({ kind: fc.constant('replace' as const), at, value: sources.values }),
    fc.record({ kind: fc.constant('retype' as const), at, how: fc.nat({ max: 5 }) }),
    fc.record({ kind: fc.constant('add' as const), at, key: sources.keys, value: sources.values }),
    fc.record({ kind: fc.constant('rename' as const), at, key: sources.keys }),
    fc.record({ kind: fc.constant('repeat' as const), at }),
    fc.record({ kind: fc.constant('grow' as const), at, length: sources.lengths }),
    fc.record({ kind: fc.constant('nest' as const), at, depth: sources.depths, object: fc.boolean() }),
  );
}

/** A value of another JSON type made from `v`. */
function retyped(v: Json, how: number): Json {
  switch (how) {
    case 0:
      return typeof v === 'string' ? Number(v) || v.length : JSON.stringify(v);
    case 1:
      return [v];
    case 2:
      return Array.isArray(v) ? (v[0] ?? null) : v !== null && typeof v === 'object' ? Object.values(v) : { value: v };
    case 3:
      return typeof v === 'number' ? v + 0.5 : typeof v === 'boolean' ? Number(v) : null;
    case 4:
      return typeof v === 'number' ? -v : typeof v === 'boolean' ? !v : typeof v === 'string' ? v.toUpperCase() : {};
    default:
      return Array.isArray(v) ? [...v, ...v] : v;
  }
}

/** Deep nesting is spliced into the text: JSON.stringify itself would overflow the stack. */
const NEST = (id: number): string => `@@nest${id}@@`;

/** The text of `json` after the mutations, each at the slot its `at` picks. */
export function mutatedText(json: Json, mutations: readonly Mutation[]): string {
  const root = { value: copy(json) };
  const nests: string[] = [];
  for (const m of mutations) {
    const all = slots(root);
    const s = all[m.at % all.length] as Slot;
    const { parent, key } = s;
    const v = valueAt(s);
    switch (m.kind) {
      case 'delete':
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else if (s.depth > 0) delete parent[key];
        break;
      case 'replace':
        define(parent, key, copy(m.value));
        break;
      case 'retype':
        define(parent, key, retyped(v, m.how));
        break;
      case 'add':
        if (Array.isArray(v)) v.push(copy(m.value));
        else if (v !== null && typeof v === 'object') define(v, m.key, copy(m.value));
        break;
      case 'rename':
        if (!Array.isArray(parent) && s.depth > 0) {
          delete parent[key];
          define(parent, m.key, v);
        }
        break;
      case 'repeat':
        if (Array.isArray(v) && v.length > 0) v.push(copy(v[0] as Json));
        break;
      case 'grow':
        // A long list of distinct values of the kind the list holds.
        if (Array.isArray(v))
          define(
            parent,
            key,
            Array.from({ length: m.length }, (_, i) => (typeof v[0] === 'string' ? `v${i}` : i + 1)),
          );
        break;
      case 'nest': {
        const [open, close] = m.object ? ['{"a":', '}'] : ['[', ']'];
        nests.push(open.repeat(m.depth) + JSON.stringify(v) + close.repeat(m.depth));
        define(parent, key, NEST(nests.length - 1));
        break;
      }
    }
  }
  let text = JSON.stringify(root.value);
  // Latest first: a nesting's text holds the placeholders of the earlier ones it wrapped.
  for (let i = nests.length - 1; i >= 0; i--) text = text.replace(JSON.stringify(NEST(i)), () => nests[i] as string);
  return text;
}

/** Changes to a JSON text itself: byte order marks, whitespace, truncation, trailing bytes. */
export const textChangeArb: fc.Arbitrary<(text: string) => string> = fc.oneof(
  { weight: 6, arbitrary: fc.constant((t: string) => t) },
  { weight: 1, arbitrary: fc.constant((t: string) => `\ufeff${t}`) },
  { weight: 1, arbitrary: fc.constant((t: string) => `\ufeff\ufeff${t}`) },
  { weight: 1, arbitrary: fc.constant((t: string) => `\n\t ${t} \r\n`) },
  { weight: 1, arbitrary: fc.nat().map((n) => (t: string) => t.slice(0, n % (t.length + 1))) },
  { weight: 1, arbitrary: fc.constantFrom('}', ',', '\u0000', '\ufeff', ' //').map((tail) => (t: string) => t + tail) },
);
