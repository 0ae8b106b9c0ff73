// Marks a folder of CommonJS output so Node reads its .js files as CommonJS inside a
// "type": "module" package.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node scripts/mark-cjs.mjs <dist/cjs folder>');
writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');
