/**
 * Small HTML helpers for the display formatters.
 */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes text for use in HTML element content or a quoted attribute value:
 * `&`, `<`, `>`, `"` and `'` become character references.
 *
 * @param text - The text to escape; non-strings are converted with `String()`.
 * @returns The escaped text.
 */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
}
