import { formatValue, valueAtPath } from '../src/format.js';

describe('formatValue', () => {
  it('quotes strings, prints scalars plainly and objects as JSON', () => {
    expect(formatValue('imagenet')).toBe("'imagenet'");
    expect(formatValue(3)).toBe('3');
    expect(formatValue(null)).toBe('null');
    expect(formatValue(undefined)).toBe('undefined');
    expect(formatValue({ type: 'group', groups: 3 })).toBe('{"type":"group","groups":3}');
  });

  it('shortens long values and survives cycles', () => {
    expect(formatValue('x'.repeat(10))).toBe(`'${'x'.repeat(10)}'`);
    const long = formatValue(Array.from({ length: 100 }, (_, i) => i));
    expect(long).toHaveLength(80);
    expect(long.endsWith('...')).toBe(true);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(formatValue(cyclic)).toBe('[object Object]');
  });
});

describe('valueAtPath', () => {
  it('follows keys and indices and stops at non-objects', () => {
    const o = { a: { b: [10, { c: 'x' }] } };
    expect(valueAtPath(o, ['a', 'b', 1, 'c'])).toBe('x');
    expect(valueAtPath(o, ['a', 'b', 0])).toBe(10);
    expect(valueAtPath(o, ['a', 'b', 0, 'z'])).toBeUndefined();
    expect(valueAtPath(o, [])).toBe(o);
  });
});
