import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { walkFolder } from '../../src/node/walk_folder.js';
import { failure } from '../support/failure.js';
import { useTempDir } from '../support/temp_dir.js';

const tempDir = useTempDir();

/** A fresh folder under the test's temporary folder. */
function folder(name: string): string {
  const dir = join(tempDir(), name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const sorted = (entries: { path: string; type: string }[]) =>
  entries.map((e) => `${e.type === 'directory' ? 'dir ' : 'file'} ${e.path}`).sort();

describe('walkFolder', () => {
  it('follows links to files and to folders, listing them under the link name', async () => {
    const outside = folder('outside');
    writeFileSync(join(outside, 'target.png'), 'x');
    mkdirSync(join(outside, 'linked-class'));
    writeFileSync(join(outside, 'linked-class', 'inner.png'), 'y');
    const root = folder('tree');
    mkdirSync(join(root, 'train', 'a'), { recursive: true });
    writeFileSync(join(root, 'train', 'a', 'plain.png'), 'z');
    symlinkSync(join(outside, 'target.png'), join(root, 'train', 'a', 'link.png'));
    symlinkSync(join(outside, 'linked-class'), join(root, 'train', 'b'));
    expect(sorted(await walkFolder(root))).toEqual([
      'dir  train',
      'dir  train/a',
      'dir  train/b',
      'file train/a/link.png',
      'file train/a/plain.png',
      'file train/b/inner.png',
    ]);
  });

  it('does not loop on a link to a folder being walked, and lists what it holds once', async () => {
    const root = folder('loop');
    mkdirSync(join(root, 'train', 'a'), { recursive: true });
    writeFileSync(join(root, 'train', 'a', '1.png'), 'x');
    symlinkSync('..', join(root, 'train', 'a', 'up')); // train/a/up -> train
    symlinkSync(root, join(root, 'train', 'root')); // absolute link back to the top
    expect(sorted(await walkFolder(root))).toEqual(['dir  train', 'dir  train/a', 'file train/a/1.png']);
  });

  it('throws IO_ERROR naming a broken link and its target', async () => {
    const root = folder('broken');
    mkdirSync(join(root, 'train', 'a'), { recursive: true });
    writeFileSync(join(root, 'train', 'a', '1.png'), 'x');
    const link = join(root, 'train', 'a', '2.png');
    symlinkSync(join(root, 'gone.png'), link);
    const e = await failure(walkFolder(root));
    expect(e.code).toBe('IO_ERROR');
    expect(e.message).toContain(`${link}: broken symbolic link to ${join(root, 'gone.png')}`);
    expect((e as unknown as { where: string }).where).toBe(link);
  });

  it('throws IO_ERROR for a folder that does not exist', async () => {
    const missing = join(tempDir(), 'no-such-folder');
    const e = await failure(walkFolder(missing));
    expect(e.code).toBe('IO_ERROR');
    expect(e.message).toContain(`${missing}: the folder does not exist`);
  });
});
