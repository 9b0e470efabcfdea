/** Plain-text tables with aligned columns (no box drawing, so output stays greppable and copy-pastable). */

export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], gap = 2): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd((widths[i] ?? 0) + gap)))
      .join('')
      .trimEnd();
  return `${[line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n`;
}
