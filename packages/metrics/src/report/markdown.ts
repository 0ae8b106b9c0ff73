import type { ExperimentReport, KeyValueRows } from './report.js';
import { formatResultCell, resultsNote } from './results.js';

/**
 * Escapes text for a Markdown table cell: backslashes and pipes, line breaks, and HTML (`<`,
 * `>`, `&`), so a label such as `<b>` shows as written instead of becoming markup.
 */
function cell(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ');
}

function table(head: string[], rows: string[][], align?: Array<'l' | 'r'>): string {
  const sep = head.map((_, i) => (align?.[i] === 'r' ? '---:' : '---'));
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head.map(cell)), line(sep), ...rows.map((r) => line(r.map(cell)))].join('\n');
}

function kv(rows: KeyValueRows, head: [string, string]): string {
  return rows.length === 0
    ? '_None recorded._'
    : table(
        head,
        rows.map(([k, v]) => [`\`${k}\``, v]),
      );
}

/**
 * The report as Markdown (GitHub flavoured): tables, and each figure as
 * `![title](<figureDir>/<id>.png)`.
 */
export function renderMarkdown(r: ExperimentReport, figureDir: string): string {
  const t = r.results;
  const out: string[] = [`# ${r.title}`, '', `_Generated ${r.generatedAt} by @bnlab/metrics._`, ''];
  if (r.description) out.push(r.description.trim(), '');
  out.push('## Results', '');
  out.push(
    table(
      ['Variant', 'Runs', 'Diverged', 'Left out', ...t.columns.map((c) => c.label)],
      t.rows.map((row) => [
        row.group,
        String(row.runs),
        String(row.diverged),
        String(row.leftOut),
        ...row.cells.map((c, i) => formatResultCell(c, t.columns[i]!.percent, row.runs, t.columns[i]!.range)),
      ]),
      ['l', 'r', 'r', 'r', ...t.columns.map(() => 'r' as const)],
    ),
    '',
    resultsNote(t),
    '',
  );
  out.push('## Plots', '');
  for (const f of r.figures) {
    out.push(`![${f.title.replace(/[[\]]/g, '')}](${figureDir}/${f.id}.png)`, '');
    if (f.caption) out.push(`_${f.caption}_`, '');
  }
  out.push('## Configuration', '', kv(r.config, ['Setting', 'Value']), '');
  out.push(
    '## Runs',
    '',
    table(
      ['Run', 'Variant', 'Status', 'Epochs', 'Steps', 'Seconds', 'Note'],
      r.runs.map((x) => [
        `\`${x.runId}\``,
        x.group,
        x.status,
        String(x.epochs),
        String(x.steps),
        x.seconds === undefined ? '' : x.seconds.toFixed(1),
        x.note ?? '',
      ]),
      ['l', 'l', 'l', 'r', 'r', 'r', 'l'],
    ),
    '',
  );
  out.push('## Environment', '', kv(r.environment, ['Item', 'Value']), '');
  return out.join('\n');
}
