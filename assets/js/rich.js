// Organizer-written text (questions, choices, items, statements) with a small, safe subset of
// Markdown: **bold**, *italic*, `code`, line breaks, images the organizer uploaded
// (`![description](/api/v1/images/<id>)`, no other address), and math between $…$ (in the
// line) or $$…$$ (on its own), typeset by the vendored KaTeX. Everything is built as DOM nodes: no
// HTML in a text is ever parsed, and KaTeX runs without `\href`, `\url` or HTML extensions.
// KaTeX (about 600 kB) loads only on a page that shows math.

import { h } from './lib.js';

const KATEX = '../vendor/katex-0.19.1';
let katex = null;

/** KaTeX and its stylesheet, loaded once. */
function loadKatex() {
  if (!katex) {
    const css = new URL(`${KATEX}/katex.min.css`, import.meta.url).href;
    if (!document.querySelector(`link[href="${css}"]`)) document.head.append(h('link', { rel: 'stylesheet', href: css }));
    katex = import(`${KATEX}/katex.mjs`).then((m) => m.default);
  }
  return katex;
}

/**
 * Typesets `tex` into a span; until KaTeX is there (or if it fails) the span shows the
 * source. Screen readers (and the name of a choice made of math) get the source as its label.
 */
function math(tex, display) {
  const el = h('span', { class: display ? 'math math-display' : 'math', role: 'math', 'aria-label': tex }, tex);
  loadKatex().then((k) => {
    k.render(tex, el, {
      displayMode: display, throwOnError: false, trust: false, strict: 'ignore',
      maxSize: 20, maxExpand: 200, output: 'htmlAndMathml',
    });
  }).catch(() => { /* the source stays readable */ });
  return el;
}

const INLINE = /!\[([^\]]*)\]\((\/api\/v1\/images\/[0-9a-f-]{36})\)|`([^`]+)`|\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*/g;

/** Images, bold, italic and code within a piece of text without math; newlines become breaks. */
function inline(text) {
  const out = [];
  let at = 0;
  for (const m of text.matchAll(INLINE)) {
    out.push(...lines(text.slice(at, m.index)));
    if (m[2] !== undefined) out.push(h('img', { class: 'rich-image', src: m[2], alt: m[1], loading: 'lazy', decoding: 'async' }));
    else if (m[3] !== undefined) out.push(h('code', {}, m[3]));
    else if (m[4] !== undefined) out.push(h('strong', {}, ...lines(m[4])));
    else out.push(h('em', {}, ...lines(m[5])));
    at = m.index + m[0].length;
  }
  out.push(...lines(text.slice(at)));
  return out;
}

function lines(text) {
  return text.split('\n').flatMap((line, i) => (i ? [h('br', {}), line] : [line])).filter((p) => p !== '');
}

const MATH = /\$\$([^$]+?)\$\$|\$([^$\n]+?)\$/g;

/** Whether `text` has any math, so a caller can tell before it builds. */
export function hasMath(text) {
  return typeof text === 'string' && text.replace(/\\\$/g, '').search(MATH) >= 0;
}

/**
 * `text` as nodes: math typeset, Markdown's emphasis and code shown, `\$` a dollar sign.
 * Returns a span, so it goes wherever a string did.
 */
export function rich(text) {
  if (typeof text !== 'string') return text;
  const escaped = text.replace(/\\\$/g, '\u0000');
  const back = (s) => s.replace(/\u0000/g, '$');
  const out = [];
  let at = 0;
  for (const m of escaped.matchAll(MATH)) {
    out.push(...inline(back(escaped.slice(at, m.index))));
    out.push(m[1] !== undefined ? math(back(m[1]).trim(), true) : math(back(m[2]).trim(), false));
    at = m.index + m[0].length;
  }
  out.push(...inline(back(escaped.slice(at))));
  return h('span', { class: 'rich' }, out);
}
