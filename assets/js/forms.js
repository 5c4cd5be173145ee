// Forms generated from a kind's JSON schema (GET /activities/types/{kind}/schema), so a new
// kind gets an editor without front-end work. It covers what the kinds' schemas use:
// strings, numbers, booleans, enums, lists of strings and of objects, and a quiz question's
// correct choices as checkboxes beside its choices. A property with `x-shown-if` (`{"multiple":
// true}`) is shown, and sent, only while that other field has that value. The server
// validates again; its errors are shown next to the field they name (`showFieldError`).

import { h, t, strings, fieldParts, capitalized } from './lib.js';

let counter = 0;
const uid = (name) => `f-${name}-${++counter}`;

/** The label of a field: a translation when there is one, else the schema's title. */
function label(name, schema) {
  const key = `field.${name}`;
  return key in strings ? t(key) : (schema.title || name);
}

/** "an option", "a question": what one entry of a list is called, for its add button. */
function oneOf(name, schema) {
  const key = `field.${name}.item`;
  return key in strings ? t(key) : t('form.one_of', { what: label(name, schema) });
}

function enumLabel(value) {
  const key = `enum.${value}`;
  return key in strings ? t(key) : String(value);
}

/**
 * A form for `schema` filled with `value`. Returns `{ el, read }`; `read()` gives the value
 * the form describes (optional fields left empty, and fields that do not apply, are
 * omitted). `onChange` fires on input.
 */
export function schemaForm(schema, value, onChange) {
  const root = objectField(schema, value || {}, onChange, true);
  return { el: root.el, read: root.read };
}

/**
 * Shows `text` next to the field that `path` names (`config.questions[1].correct`), inside
 * `root`: each part of the path narrows to the element marked with that `data-path` (an
 * entry `questions[1]`, else the list `questions`). Returns false when no field matches.
 */
export function showFieldError(root, path, text) {
  clearFieldErrors(root);
  let scope = root;
  let found = null;
  for (const part of fieldParts(path)) {
    const next = [part, part.replace(/\[\d+\]$/, '')]
      .map((name) => scope.querySelector(`[data-path="${CSS.escape(name)}"]`))
      .find(Boolean);
    if (!next) break;
    found = next;
    scope = next;
  }
  if (!found) return false;
  const id = uid('error');
  found.append(h('p', { class: 'field-error', id, role: 'alert' }, text));
  const input = found.querySelector('input,textarea,select');
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', id);
    input.focus();
  }
  return true;
}

/** Removes the errors `showFieldError` showed. */
export function clearFieldErrors(root) {
  root.querySelectorAll('.field-error:not(.incomplete)').forEach((el) => el.remove());
  root.querySelectorAll('[aria-invalid]').forEach((el) => { el.removeAttribute('aria-invalid'); el.removeAttribute('aria-describedby'); });
}

function field(name, schema, value, required, onChange) {
  if (schema.enum) return enumField(name, schema, value, onChange);
  switch (schema.type) {
    case 'string': return stringField(name, schema, value, required, onChange);
    case 'integer':
    case 'number': return numberField(name, schema, value, required, onChange);
    case 'boolean': return boolField(name, schema, value, onChange);
    case 'array':
      if (schema.items && schema.items.type === 'object') return objectList(name, schema, value, onChange);
      if (schema.items && (schema.items.type === 'integer' || schema.items.type === 'number')) return numberList(name, schema, value, onChange);
      return stringList(name, schema, value, onChange);
    case 'object': return objectField(schema, value || {}, onChange, false, name);
    default: return null;
  }
}

function wrap(id, name, schema, input, required) {
  return h('div', { class: 'field', 'data-path': name },
    h('label', { for: id }, label(name, schema), required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    input,
    schema.description ? h('p', { class: 'hint' }, schema.description) : null);
}

function stringField(name, schema, value, required, onChange) {
  const id = uid(name);
  const long = (schema.maxLength || 0) > 160;
  const input = h(long ? 'textarea' : 'input', {
    id, name, maxlength: schema.maxLength, required, rows: long ? 2 : undefined,
    value: value ?? (schema.default ?? ''), oninput: onChange,
  });
  if (long) input.value = value ?? (schema.default ?? '');
  return { el: wrap(id, name, schema, input, required), read: () => (input.value.trim() === '' && !required ? undefined : input.value) };
}

function numberField(name, schema, value, required, onChange) {
  const id = uid(name);
  const input = h('input', {
    id, name, type: 'number', inputmode: 'numeric', min: schema.minimum, max: schema.maximum,
    step: schema.type === 'integer' ? 1 : 'any', required, value: value ?? (schema.default ?? ''), oninput: onChange,
  });
  return { el: wrap(id, name, schema, input, required), read: () => (input.value === '' ? undefined : Number(input.value)) };
}

function boolField(name, schema, value, onChange) {
  const id = uid(name);
  const input = h('input', { id, name, type: 'checkbox', checked: value ?? schema.default ?? false, onchange: onChange });
  return { el: h('div', { class: 'check', 'data-path': name }, input, h('label', { for: id }, label(name, schema))), read: () => input.checked };
}

function enumField(name, schema, value, onChange) {
  const id = uid(name);
  const current = value ?? schema.default ?? schema.enum[0];
  const select = h('select', { id, name, onchange: onChange },
    schema.enum.map((v) => h('option', { value: v, selected: v === current }, enumLabel(v))));
  // A number's choices are read back as numbers (a scale's 5 or 10 steps).
  const numeric = schema.type === 'integer' || schema.type === 'number';
  return { el: wrap(id, name, schema, select, false), read: () => (numeric ? Number(select.value) : select.value) };
}

/** A list of short texts, one input each, with add and remove buttons. */
function stringList(name, schema, value, onChange) {
  const items = schema.items || {};
  const min = schema.minItems || 0;
  const max = schema.maxItems || 50;
  const list = h('ol', { class: 'list-inputs' });
  const legend = label(name, schema);
  const add = h('button', { type: 'button', class: 'button small secondary' }, t('form.add_item', { what: oneOf(name, schema) }));
  const renumber = () => {
    [...list.children].forEach((li, i) => {
      li.dataset.path = `${name}[${i}]`;
      const input = li.querySelector('input');
      input.setAttribute('aria-label', `${legend} ${i + 1}`);
      li.querySelector('button').setAttribute('aria-label', t('form.remove_item', { what: `${legend} ${i + 1}` }));
    });
    add.disabled = list.children.length >= max;
  };
  const row = (text) => {
    const input = h('input', { maxlength: items.maxLength, value: text ?? '', oninput: onChange, class: 'list-item' });
    const li = h('li', {}, input, h('button', {
      type: 'button', class: 'button small secondary remove',
      onclick: () => { if (list.children.length > min) { li.remove(); renumber(); onChange(); } },
    }, '✕'));
    list.append(li);
    return input;
  };
  const initial = Array.isArray(value) && value.length ? value : Array.from({ length: Math.max(min, 1) }, () => '');
  initial.forEach((v) => row(v));
  add.addEventListener('click', () => { row('').focus(); renumber(); onChange(); });
  renumber();
  const el = h('fieldset', { class: 'list-field', 'data-path': name }, h('legend', {}, legend), list, add);
  // An optional list left empty is omitted, so the kind's default applies.
  const read = () => {
    const values = [...list.querySelectorAll('input')].map((i) => i.value.trim()).filter(Boolean);
    return values.length || min > 0 ? values : undefined;
  };
  el.readValues = read;
  return { el, read, list };
}

/** Numbers separated by commas. */
function numberList(name, schema, value, onChange) {
  const id = uid(name);
  const input = h('input', { id, name, value: Array.isArray(value) ? value.join(', ') : '', oninput: onChange, inputmode: 'numeric' });
  return {
    el: wrap(id, name, schema, input, false),
    read: () => input.value.split(/[,\s]+/).filter(Boolean).map(Number),
  };
}

/**
 * Checkboxes for a question's correct choices, following its choices as they are typed.
 * None is ticked until the organizer ticks one; until then the question says it is
 * incomplete, next to it, before anything is saved.
 */
function correctChoices(choicesField, value, onChange) {
  const box = h('fieldset', { class: 'correct-field', 'data-path': 'correct' }, h('legend', {}, t('field.correct')));
  let chosen = new Set(Array.isArray(value) ? value : []);
  const incomplete = h('p', { class: 'field-error incomplete', role: 'status' }, t('form.no_correct'));
  const draw = () => {
    const labels = [...choicesField.list.querySelectorAll('input')].map((i) => i.value.trim());
    const rows = labels.map((text, i) => {
      const id = uid('correct');
      return h('div', { class: 'check' },
        h('input', { type: 'checkbox', id, checked: chosen.has(i), onchange: (e) => { if (e.target.checked) chosen.add(i); else chosen.delete(i); draw(); onChange(); } }),
        h('label', { for: id }, text || t('form.choice_n', { n: i + 1 })));
    });
    box.replaceChildren(box.firstChild, ...rows, chosen.size ? '' : incomplete);
  };
  draw();
  choicesField.list.addEventListener('input', draw);
  const observer = new MutationObserver(() => {
    const count = choicesField.list.children.length;
    chosen = new Set([...chosen].filter((i) => i < count));
    draw();
  });
  observer.observe(choicesField.list, { childList: true });
  return { el: box, read: () => [...chosen].sort((a, b) => a - b) };
}

function objectField(schema, value, onChange, root, name) {
  const required = new Set(schema.required || []);
  const fields = {};
  const els = [];
  const conditions = [];
  // Fields that apply only with another field's value follow it as it changes.
  const applies = () => {
    for (const [f, when] of conditions) {
      f.el.hidden = !Object.entries(when).every(([other, wanted]) => fields[other] && fields[other].read() === wanted);
    }
  };
  const changed = () => { applies(); onChange(); };
  // In the schema's own order (the server keeps the order its author wrote).
  for (const [prop, sub] of Object.entries(schema.properties || {})) {
    let f;
    if (prop === 'correct' && fields.choices && fields.choices.list) f = correctChoices(fields.choices, value[prop], changed);
    else f = field(prop, sub, value[prop], required.has(prop), changed);
    if (!f) continue;
    fields[prop] = f;
    if (sub['x-shown-if']) conditions.push([f, sub['x-shown-if']]);
    els.push(f.el);
  }
  applies();
  const read = () => {
    const out = {};
    for (const [prop, f] of Object.entries(fields)) {
      if (f.el.hidden) continue;
      const v = f.read();
      if (v !== undefined) out[prop] = v;
    }
    return out;
  };
  const el = root ? h('div', { class: 'stack' }, els) : h('fieldset', { 'data-path': name }, h('legend', {}, label(name, schema)), els);
  return { el, read };
}

/** A list of objects (a quiz's questions): one fieldset each, added and removed. */
function objectList(name, schema, value, onChange) {
  const max = schema.maxItems || 100;
  const min = schema.minItems || 0;
  const holder = h('div', { class: 'object-list' });
  const entries = [];
  const legend = label(name, schema);
  const add = h('button', { type: 'button', class: 'button small secondary' }, t('form.add_item', { what: oneOf(name, schema) }));
  // Each entry is headed as one of the list, counted from one: "Question 2".
  const nth = (i) => (`field.${name}.nth` in strings ? t(`field.${name}.nth`, { n: i + 1 }) : `${legend} ${i + 1}`);
  const renumber = () => {
    entries.forEach((entry, i) => {
      entry.legend.textContent = capitalized(nth(i));
      entry.el.dataset.path = `${name}[${i}]`;
    });
    add.disabled = entries.length >= max;
  };
  const addEntry = (v) => {
    const inner = objectField(schema.items, v || {}, onChange, true);
    const entry = { read: inner.read, legend: h('legend', {}) };
    const remove = h('button', {
      type: 'button', class: 'button small secondary',
      onclick: () => {
        if (entries.length <= min) return;
        entries.splice(entries.indexOf(entry), 1);
        entry.el.remove();
        renumber();
        onChange();
      },
    }, t('form.remove'));
    entry.el = h('fieldset', { class: 'object-item' }, entry.legend, inner.el, remove);
    entries.push(entry);
    holder.append(entry.el);
  };
  (Array.isArray(value) && value.length ? value : Array.from({ length: Math.max(min, 1) }, () => ({}))).forEach(addEntry);
  add.addEventListener('click', () => { addEntry({}); renumber(); onChange(); entries[entries.length - 1].el.querySelector('input,textarea')?.focus(); });
  renumber();
  return { el: h('div', { class: 'list-field', 'data-path': name }, holder, add), read: () => entries.map((e) => e.read()) };
}
