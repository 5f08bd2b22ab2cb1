#!/usr/bin/env node
/**
 * Replaces the part of docs/hypernetworks.md between `<!-- results:begin -->` and
 * `<!-- results:end -->` with a rendered table (render.js), keeping the prose around it.
 *
 * Usage: node update-doc.js DOC.md TABLE.md
 */
const fs = require('node:fs');

const [doc, table] = process.argv.slice(2);
const text = fs.readFileSync(doc, 'utf8');
const begin = '<!-- results:begin -->';
const end = '<!-- results:end -->';
if (!text.includes(begin) || !text.includes(end)) throw new Error(`${doc} has no ${begin} … ${end} block`);
const before = text.slice(0, text.indexOf(begin) + begin.length);
const after = text.slice(text.indexOf(end));
fs.writeFileSync(doc, `${before}\n${fs.readFileSync(table, 'utf8').trimEnd()}\n${after}`);
