import type { ExperimentReport, KeyValueRows } from './report.js';
import { formatResultCell, resultsNote } from './results.js';

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Base64 of the UTF-8 bytes of `s`, in Node and browsers alike. */
function base64(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function keyValueTable(rows: KeyValueRows, head: [string, string]): string {
  if (rows.length === 0) return '<p class="muted">None recorded.</p>';
  const body = rows.map(([k, v]) => `<tr><th scope="row"><code>${escapeHtml(k)}</code></th><td>${escapeHtml(v)}</td></tr>`).join('\n');
  return `<table class="kv"><thead><tr><th>${head[0]}</th><th>${head[1]}</th></tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const STYLE = `
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", Verdana, Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1.25rem; color: #1d1d1f; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .25rem; }
.muted { color: #666; }
table { border-collapse: collapse; margin: .75rem 0; font-size: .92rem; }
.scroll { overflow-x: auto; }
th, td { border: 1px solid #d8d8d8; padding: .32rem .6rem; text-align: left; vertical-align: top; }
thead th { background: #f3f4f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.kv th { font-weight: normal; background: #fafafa; }
figure { margin: 1.5rem 0; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: .9rem; margin-top: .4rem; max-width: 900px; }
.status-diverged { color: #b00020; font-weight: bold; }
.status-failed, .status-interrupted { color: #8a5300; font-weight: bold; }
`;

/** The report as one self-contained HTML document (no script, no external resource). */
export function renderHtml(r: ExperimentReport): string {
  const t = r.results;
  const head = ['Variant', 'Runs', 'Diverged', 'Left out', ...t.columns.map((c) => c.label)]
    .map((h) => `<th>${escapeHtml(h)}</th>`)
    .join('');
  const rows = t.rows
    .map((row) => {
      const cells = row.cells
        .map((c, i) => `<td class="num">${escapeHtml(formatResultCell(c, t.columns[i]!.percent, row.runs, t.columns[i]!.range))}</td>`)
        .join('');
      return `<tr><th scope="row">${escapeHtml(row.group)}</th><td class="num">${row.runs}</td><td class="num">${row.diverged}</td><td class="num">${row.leftOut}</td>${cells}</tr>`;
    })
    .join('\n');
  const figures = r.figures
    .map((f) => {
      const caption = f.caption ? `<figcaption>${escapeHtml(f.caption)}</figcaption>` : '';
      return (
        `<figure id="fig-${escapeHtml(f.id)}">` +
        `<img src="data:image/svg+xml;base64,${base64(f.svg)}" width="${Math.round(f.width)}" height="${Math.round(f.height)}" alt="${escapeHtml(f.title)}">` +
        `${caption}</figure>`
      );
    })
    .join('\n');
  const runRows = r.runs
    .map(
      (run) =>
        `<tr><td><code>${escapeHtml(run.runId)}</code></td><td>${escapeHtml(run.group)}</td>` +
        `<td class="status-${escapeHtml(run.status)}">${escapeHtml(run.status)}</td><td class="num">${run.epochs}</td>` +
        `<td class="num">${run.steps}</td><td class="num">${run.seconds === undefined ? '' : run.seconds.toFixed(1)}</td>` +
        `<td>${escapeHtml(run.note ?? '')}</td></tr>`,
    )
    .join('\n');
  const description = (r.description ?? '')
    .split(/\n\s*\n/)
    .filter((p) => p.trim())
    .map((p) => `<p>${escapeHtml(p.trim())}</p>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="@bnlab/metrics">
<title>${escapeHtml(r.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(r.title)}</h1>
<p class="muted">Generated ${escapeHtml(r.generatedAt)} by @bnlab/metrics.</p>
${description}
</header>
<section id="results">
<h2>Results</h2>
<div class="scroll"><table class="results"><thead><tr>${head}</tr></thead><tbody>
${rows}
</tbody></table></div>
<p class="muted">${escapeHtml(resultsNote(t))}</p>
</section>
<section id="plots">
<h2>Plots</h2>
${figures || '<p class="muted">No plots.</p>'}
</section>
<section id="configuration">
<h2>Configuration</h2>
${keyValueTable(r.config, ['Setting', 'Value'])}
</section>
<section id="runs">
<h2>Runs</h2>
<table><thead><tr><th>Run</th><th>Variant</th><th>Status</th><th>Epochs</th><th>Steps</th><th>Seconds</th><th>Note</th></tr></thead><tbody>
${runRows}
</tbody></table>
</section>
<section id="environment">
<h2>Environment</h2>
${keyValueTable(r.environment, ['Item', 'Value'])}
</section>
</body>
</html>
`;
}
