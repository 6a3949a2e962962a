/**
 * Cleans user text (names, chat): drops control and bidi-override characters,
 * folds runs of white space, trims, and cuts to `max` code points. Text is always
 * rendered as text by clients; this keeps it printable and bounded.
 */
export function cleanText(raw: string, max: number): string {
  const folded = raw.replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, ' ').replace(/\s+/g, ' ').trim();
  const cps = Array.from(folded);
  return cps.length > max ? cps.slice(0, max).join('').trim() : folded;
}
