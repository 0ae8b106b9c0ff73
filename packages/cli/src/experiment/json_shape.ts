import { BnlabError } from '@bnlab/core';

/**
 * How deep objects and arrays may nest in an experiment file (the file's top-level object is
 * level 1). Real files nest about 5 deep; much deeper input is refused before anything walks it
 * recursively — zod, `structuredClone`, `canonicalJson` and `JSON.stringify` all recurse,
 * and 20,000 levels exhaust the stack.
 */
export const MAX_NESTING = 64;

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

/**
 * Checks parsed JSON before it is validated: no object or array nested more than
 * {@link MAX_NESTING} levels deep. Walks the value with a stack of its own (never recursing),
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
      for (const key of Object.keys(value).reverse()) stack.push({ value: (value as Record<string, unknown>)[key], key, parent: node, depth: depth + 1 });
    }
  }
}
