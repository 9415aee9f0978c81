/** Quoting what a check shows of a message: one line, bounded. */

/** Keeps a quoted line on one line and short enough for a summary. */
export function quote(message: string, max = 300): string {
  const flat = message.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * Like quote, but a long line loses its middle instead of its end: Go errors wrap outward
 * (`Failed to download plugins: failed to download plugin from <URL>: ... response code Not Found`),
 * so the outer context is at the start and the root cause at the end.
 */
export function quoteEnds(message: string, max = 300): string {
  const flat = message.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const tail = Math.floor((max - 3) * 0.4);
  const head = max - 3 - tail;
  return `${flat.slice(0, head).trimEnd()} … ${flat.slice(flat.length - tail).trimStart()}`;
}
