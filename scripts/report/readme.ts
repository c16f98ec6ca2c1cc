/**
 * Rewrites the README's "Measured results": the text between `<!-- measured:start -->` and
 * `<!-- measured:end -->` is replaced, everything else is left byte for byte.
 *
 * @module
 */

/** The marker lines that delimit the generated section. */
export const measuredMarkers = {
  start: "<!-- measured:start -->",
  end: "<!-- measured:end -->",
} as const;

/** Thrown when the README lacks the markers, has several, or has them out of order. */
export class MeasuredMarkersError extends Error {
  override name = "MeasuredMarkersError";
}

function occurrences(text: string, marker: string): number[] {
  const found: number[] = [];
  for (let i = text.indexOf(marker); i !== -1; i = text.indexOf(marker, i + 1)) found.push(i);
  return found;
}

/**
 * `readme` with the measured section replaced by `content`.
 *
 * @throws {MeasuredMarkersError} unless each marker appears once, start before end.
 */
export function rewriteMeasuredSection(readme: string, content: string): string {
  const starts = occurrences(readme, measuredMarkers.start);
  const ends = occurrences(readme, measuredMarkers.end);
  if (starts.length !== 1 || ends.length !== 1) {
    throw new MeasuredMarkersError(
      `expected one "${measuredMarkers.start}" and one "${measuredMarkers.end}" line, found ` +
        `${starts.length} and ${ends.length}`,
    );
  }
  const start = starts[0]! + measuredMarkers.start.length;
  const end = ends[0]!;
  if (end < start) {
    throw new MeasuredMarkersError(
      `"${measuredMarkers.end}" comes before "${measuredMarkers.start}"`,
    );
  }
  return `${readme.slice(0, start)}\n${content.trimEnd()}\n${readme.slice(end)}`;
}
