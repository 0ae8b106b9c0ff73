/**
 * The defaults with the options given over them: for each key of `defaults`, the option's value
 * unless it is `undefined`. (A spread, `{ ...defaults, ...options }`, would let an option given
 * as `undefined` erase its default.) Keys that have no default are not copied.
 */
export function withDefaults<T extends object>(options: { [K in keyof T]?: T[K] | undefined }, defaults: T): T {
  const out = { ...defaults };
  for (const key of Object.keys(defaults) as Array<keyof T>) {
    const value = options[key];
    if (value !== undefined) out[key] = value as T[keyof T];
  }
  return out;
}
