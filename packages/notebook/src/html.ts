/** Small HTML helpers for the report: escaping text and attributes, and JSON safe inside `<script>`. */

/** `text` with `& < > " '` escaped, for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON for a `<script type="application/json">` element: `<`, U+2028 and U+2029 escaped so no `</script>` can end it early. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** A `data:` URI. `base64` is the payload already base64-encoded (whitespace removed). */
export function dataUri(mime: string, base64: string): string {
  return `data:${mime};base64,${base64.replace(/\s+/g, '')}`;
}
