/** Maps offsets of one source text to 1-based positions and ranges (binary search over line starts). */
import type { Position, SourceRange } from '../../template/diagnostics.ts';
import type { JsonSpan } from './jsonAst.ts';

export class SourceMap {
  private readonly lineStarts: number[] = [0];
  constructor(
    readonly file: string,
    text: string,
  ) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  position(offset: number): Position {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (this.lineStarts[lo] ?? 0) + 1 };
  }

  range(span: JsonSpan): SourceRange {
    return { file: this.file, start: this.position(span.start), end: this.position(span.end) };
  }

  /** A range for one character at `offset` (syntax errors). */
  point(offset: number): SourceRange {
    return this.range({ start: offset, end: offset + 1 });
  }
}
