import { BnlabError } from '@bnlab/core';

/**
 * How deep objects and arrays may nest in an experiment file (the file's top-level object is
 * level 1). Real files nest about 5 deep; much deeper input is refused before anything walks it
 * recursively — zod, `structuredClone`, `canonicalJson` and `JSON.stringify` all recurse,
 * and 20,000 levels exhaust the stack.
 */
export const MAX_NESTING = 64;

/**
 * Keys no experiment file may use: assigning them (as a grid path does, segment by segment, and
 * as zod does when it copies a record) reaches an object's prototype instead of a field —
 * `__proto__` would change every object's.
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** The first segment of a dotted path (`model.norm.__proto__.x`) that is a {@link RESERVED_KEYS} name, if any. */
export function reservedSegment(path: string): string | undefined {
  return path.split('.').find((segment) => RESERVED_KEYS.has(segment));
}

/** Why a reserved name is refused, for messages. */
const RESERVED_WHY = 'a name JavaScript objects reserve for their prototype';

/** A path of keys as JavaScript would write it: `grid["model.norm"][0].type`. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  return path
    .map((k, i) => (typeof k === 'number' ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? (i === 0 ? k : `.${k}`) : `[${JSON.stringify(k)}]`))
    .join('');
}

interface Node {
  value: unknown;
  key: string | number | null;
  parent: Node | null;
  depth: number;
}

function pathOf(node: Node): Array<string | number> {
  const path: Array<string | number> = [];
  for (let n: Node | null = node; n && n.key !== null; n = n.parent) path.push(n.key);
  return path.reverse();
}

/** True for the objects whose keys are dotted paths of trial fields: `grid`, `labels` and each entry of `exclude`. */
function isPathKeyed(node: Node): boolean {
  const top = node.parent?.key === null;
  if (top) return node.key === 'grid' || node.key === 'labels';
  return node.parent?.key === 'exclude' && node.parent.parent?.key === null && typeof node.key === 'number';
}

/**
 * Checks parsed JSON before it is validated: no object or array nested more than
 * {@link MAX_NESTING} levels deep, no key that is one of {@link RESERVED_KEYS}, and none in the
 * dotted paths that are keys of `grid`, `exclude` entries and `labels`. Walks the value with a stack of its own (never recursing),
 * so any depth JSON.parse accepts is checked. Errors name `where` (the file) and the path.
 */
export function checkJsonShape(input: unknown, where: string): void {
  const stack: Node[] = [{ value: input, key: null, parent: null, depth: 1 }];
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    const { value, depth } = node;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_NESTING) {
      throw new BnlabError(
        'INVALID_CONFIG',
        `${where}: ${formatPath(pathOf(node))}: values nest more than ${MAX_NESTING} levels deep here; an experiment file needs only a few levels`,
        { where },
      );
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], key: i, parent: node, depth: depth + 1 });
    } else {
      const keys = Object.keys(value);
      const parent = formatPath(pathOf(node));
      const reserved = keys.find((k) => RESERVED_KEYS.has(k));
      if (reserved !== undefined) {
        throw new BnlabError(
          'INVALID_CONFIG',
          `${where}: ${parent || '(top level)'}: the key "${reserved}" is not allowed (${RESERVED_WHY})`,
          { where },
        );
      }
      if (isPathKeyed(node)) {
        for (const k of keys) {
          const segment = reservedSegment(k);
          if (segment !== undefined) {
            throw new BnlabError('INVALID_CONFIG', `${where}: ${parent}: "${k}": "${segment}" cannot be part of a path (${RESERVED_WHY})`, {
              where,
            });
          }
        }
      }
      for (const key of keys.reverse()) stack.push({ value: (value as Record<string, unknown>)[key], key, parent: node, depth: depth + 1 });
    }
  }
}
