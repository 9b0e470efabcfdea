/**
 * Did-you-mean hints for misspelled names (root keys, attributes, functions, builders). Follows HCL's
 * `didyoumean.NameSuggestion`, which Packer uses: the closest candidate by Levenshtein distance wins when
 * that distance is below 3; ties go to the first candidate in the given order.
 */

/** Candidates at this distance or more are too different to be a plausible typo. */
const MAX_DISTANCE_EXCLUSIVE = 3;

/** Levenshtein edit distance (insert, delete, substitute), two-row dynamic programming. */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = new Array<number>(b.length + 1);
  let curr = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    curr[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
      const del = (prev[j] ?? 0) + 1;
      const ins = (curr[j - 1] ?? 0) + 1;
      const sub = (prev[j - 1] ?? 0) + cost;
      curr[j] = Math.min(del, ins, sub);
    }
    [prev, curr] = [curr, prev];
  }
  return prev[b.length] ?? 0;
}

/**
 * Returns the candidate `name` most plausibly meant, or undefined when none is close enough.
 * An exact match is returned as is (callers normally only ask for names that did not match).
 */
export function suggest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = MAX_DISTANCE_EXCLUSIVE;
  for (const candidate of candidates) {
    const d = levenshtein(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** `Did you mean "x"?` sentence for a diagnostic detail, or undefined when there is no suggestion. */
export function didYouMean(name: string, candidates: readonly string[]): string | undefined {
  const s = suggest(name, candidates);
  return s === undefined ? undefined : `Did you mean "${s}"?`;
}
