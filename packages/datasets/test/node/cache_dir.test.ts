import { defaultCacheDir } from '../../src/node/cache_dir.js';

describe('defaultCacheDir', () => {
  const home = '/home/ada';
  it('uses BNLAB_CACHE_DIR first, on every platform', () => {
    for (const platform of ['linux', 'darwin', 'win32']) {
      expect(defaultCacheDir({ env: { BNLAB_CACHE_DIR: '/data/cache', XDG_CACHE_HOME: '/x' }, platform, home })).toBe('/data/cache');
    }
  });

  it('follows XDG on Linux, ignoring a relative XDG_CACHE_HOME', () => {
    expect(defaultCacheDir({ env: {}, platform: 'linux', home })).toBe('/home/ada/.cache/bnlab');
    expect(defaultCacheDir({ env: { XDG_CACHE_HOME: '/var/cache/ada' }, platform: 'linux', home })).toBe('/var/cache/ada/bnlab');
    expect(defaultCacheDir({ env: { XDG_CACHE_HOME: 'relative' }, platform: 'freebsd', home })).toBe('/home/ada/.cache/bnlab');
    expect(defaultCacheDir({ env: { BNLAB_CACHE_DIR: '' }, platform: 'linux', home })).toBe('/home/ada/.cache/bnlab');
  });

  it('uses ~/Library/Caches on macOS and LOCALAPPDATA on Windows', () => {
    expect(defaultCacheDir({ env: {}, platform: 'darwin', home: '/Users/ada' })).toBe('/Users/ada/Library/Caches/bnlab');
    expect(
      defaultCacheDir({
        env: { LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local' },
        platform: 'win32',
        home: 'C:\\Users\\ada',
      }),
    ).toBe('C:\\Users\\ada\\AppData\\Local\\bnlab');
    expect(defaultCacheDir({ env: {}, platform: 'win32', home: 'C:\\Users\\ada' })).toBe('C:\\Users\\ada\\AppData\\Local\\bnlab');
  });
});
