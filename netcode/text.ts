/**
 * Cleans user text (names, chat): turns control and format characters (bidi
 * overrides among them) into spaces — except the zero-width joiners that emoji
 * sequences and some scripts need — folds runs of white space, trims, and cuts
 * to `max` code points. Clients always render it as text; this keeps it
 * printable and bounded.
 */
export function cleanText(raw: string, max: number): string {
  const folded = raw.replace(/[\p{Cc}\u2028\u2029]|(?![\u200c\u200d])\p{Cf}/gu, ' ').replace(/\s+/g, ' ').trim();
  const cps = Array.from(folded);
  return cps.length > max ? cps.slice(0, max).join('').trim() : folded;
}
