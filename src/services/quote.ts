/** Characters of client input a message may quote. */
export const QUOTE_CHARS = 32;

/**
 * A short, safe rendering of client input for a message: at most 32
 * characters (code points, so no surrogate pair is split), in JSON quotes,
 * with control and invisible formatting characters (NUL, bidi overrides,
 * zero-width joiners) escaped so a message can neither grow with the input
 * nor hide or reorder text.
 */
export function quote(input: string): string {
  let shown = '';
  let count = 0;
  for (const char of input) {
    if (count++ === QUOTE_CHARS) {
      shown += '…';
      break;
    }
    shown += char;
  }
  return JSON.stringify(shown).replace(
    /[\p{Cc}\p{Cf}\u2028\u2029]/gu,
    (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`,
  );
}
