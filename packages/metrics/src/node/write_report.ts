import { join } from 'node:path';
import { batchesToCsv, activationTracesToCsv, epochsToCsv } from '../export/csv.js';
import { recordsToJson } from '../export/json.js';
import { buildReport, type ExperimentReportInput } from '../report/report.js';
import { writeFileAtomic } from './atomic_write.js';
import { svgToPng } from './png.js';

/** Options of {@link writeReport}. */
export interface WriteReportOptions {
  /** File name stem of the HTML and Markdown files. @default 'report' */
  name?: string;
  /** Also write the records as `records.json`, `epochs.csv` and `batches.csv`. @default true */
  data?: boolean;
  /** Also write each figure as PNG (the Markdown links the PNGs). @default true */
  png?: boolean;
  /** Pixel scale of the PNG figures. @default 2 */
  pngScale?: number;
}

/** The files {@link writeReport} wrote. */
export interface WrittenReport {
  /** Path of the HTML file. */
  html: string;
  /** Path of the Markdown file. */
  markdown: string;
  /** Paths of the figure files (SVG and PNG). */
  figures: string[];
  /** Paths of the data files (JSON, CSV). */
  data: string[];
}

/**
 * Writes a report into `dir`: `report.html` (self-contained), `report.md` with
 * `figures/<id>.png` and `.svg` beside it, and the data as JSON and CSV. Every file is
 * written atomically. Node only.
 */
export async function writeReport(dir: string, input: ExperimentReportInput, options: WriteReportOptions = {}): Promise<WrittenReport> {
  const built = await buildReport(input);
  const name = options.name ?? 'report';
  const figures: string[] = [];
  for (const f of built.report.figures) {
    const base = join(dir, 'figures', f.id);
    await writeFileAtomic(`${base}.svg`, f.svg);
    figures.push(`${base}.svg`);
    if (options.png ?? true) {
      await writeFileAtomic(`${base}.png`, svgToPng(f.svg, { scale: options.pngScale ?? 2 }));
      figures.push(`${base}.png`);
    }
  }
  const data: string[] = [];
  if (options.data ?? true) {
    const files: Array<[string, string]> = [
      ['records.json', recordsToJson(input.runs)],
      ['epochs.csv', epochsToCsv(input.runs)],
      ['batches.csv', batchesToCsv(input.runs)],
      ...(input.runs.some((r) => r.activationTraces?.length)
        ? [['activations.csv', activationTracesToCsv(input.runs)] as [string, string]]
        : []),
    ];
    for (const [file, content] of files) {
      await writeFileAtomic(join(dir, file), content);
      data.push(join(dir, file));
    }
  }
  const html = join(dir, `${name}.html`);
  const markdown = join(dir, `${name}.md`);
  await writeFileAtomic(markdown, built.markdown);
  await writeFileAtomic(html, built.html);
  return { html, markdown, figures, data };
}
