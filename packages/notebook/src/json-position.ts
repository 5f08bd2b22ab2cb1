/**
 * Where JSON text first goes wrong. Node 20's `JSON.parse` messages do not always carry a position
 * (`Unexpected token ',', ..."cells": [,]... is not valid JSON`), so this small scanner finds the
 * offset of the first character at which the text stops being JSON (RFC 8259), for error messages.
 */

/** The character offset of the first JSON syntax error in `text`, or -1 if it is valid JSON. */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  const fail = (): never => { throw i; };
  const literal = (word: string) => { for (const ch of word) { if (text[i] !== ch) fail(); i++; } };
  const string = () => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail();
      const ch = text[i];
      if (ch === '"') { i++; return; }
      if (ch < ' ') fail();
      if (ch === '\\') {
        i++;
        if (text[i] === 'u') {
          i++;
          for (let k = 0; k < 4; k++) { if (!/[0-9a-fA-F]/.test(text[i] ?? '')) fail(); i++; }
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
        else i++;
      } else i++;
    }
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m || m[0] === '-') fail();
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string(); ws();
        if (text[i] !== ':') fail();
        i++; value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail();
      }
    } else if (ch === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail();
      }
    } else if (ch === '"') string();
    else if (ch === 't') literal('true');
    else if (ch === 'f') literal('false');
    else if (ch === 'n') literal('null');
    else if (ch === '-' || (ch >= '0' && ch <= '9')) number();
    else fail();
  };
  try {
    value(); ws();
    if (i < text.length) fail();
    return -1;
  } catch (offset) {
    if (typeof offset === 'number') return offset;
    throw offset;
  }
}

/** Line and column (both 1-based) of a character offset in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const nl = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: offset - nl };
}

/** A JSON Pointer segment escaped (RFC 6901): `~` → `~0`, `/` → `~1`. */
export function escapePointerSegment(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Where each JSON Pointer's value starts in `text` (valid JSON): pointer → character offset.
 * Pointers that name nothing in the document are absent from the map. One pass over the text,
 * descending only into the containers on the way to a wanted pointer.
 */
export function jsonPointerOffsets(text: string, pointers: Iterable<string>): Map<string, number> {
  const wanted = new Set(pointers);
  const onTheWay = new Set<string>();
  for (const pointer of wanted) {
    for (let p = pointer; ; p = p.slice(0, p.lastIndexOf('/'))) {
      onTheWay.add(p);
      if (p === '') break;
    }
  }
  const found = new Map<string, number>();
  let i = 0;
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  const skipString = () => {
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
  };
  const skipValue = () => {
    const ch = text[i];
    if (ch === '"') return skipString();
    if (ch === '{' || ch === '[') {
      let depth = 0;
      do {
        const c = text[i];
        if (c === '"') { skipString(); continue; }
        if (c === '{' || c === '[') depth++;
        else if (c === '}' || c === ']') depth--;
        i++;
      } while (depth > 0 && i < text.length);
      return;
    }
    while (i < text.length && !',]} \t\n\r'.includes(text[i])) i++;
  };
  const value = (pointer: string): void => {
    ws();
    if (wanted.has(pointer)) found.set(pointer, i);
    if (!onTheWay.has(pointer) || found.size === wanted.size) return skipValue();
    const ch = text[i];
    if (ch === '{') {
      i++; ws();
      while (text[i] !== '}' && i < text.length) {
        const start = i;
        skipString();
        const key = JSON.parse(text.slice(start, i)) as string;
        ws(); i++; // ':'
        value(`${pointer}/${escapePointerSegment(key)}`);
        ws();
        if (text[i] === ',') { i++; ws(); }
      }
      i++;
    } else if (ch === '[') {
      i++; ws();
      for (let index = 0; text[i] !== ']' && i < text.length; index++) {
        value(`${pointer}/${index}`);
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
    } else skipValue();
  };
  if (wanted.size > 0) value('');
  return found;
}
