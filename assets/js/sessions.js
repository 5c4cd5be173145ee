// The organizer's sessions: the list with status and links, and a form for a new one.

import { h, t, fill, api, errorText, setupHeader, mainArea, num } from './lib.js';

setupHeader();
const main = mainArea();
const list = h('section', { 'aria-labelledby': 'list-heading' });
const error = h('p', { class: 'error', role: 'alert', hidden: true });

const title = h('input', { id: 'new-title', name: 'title', required: true, maxlength: 200, autocomplete: 'off' });
const create = h('form', { class: 'card inline-form', 'aria-labelledby': 'new-heading' },
  h('h2', { id: 'new-heading' }, t('sessions.new')),
  h('div', { class: 'field grow' }, h('label', { for: 'new-title' }, t('sessions.new_title')), title),
  h('button', { type: 'submit', class: 'button' }, t('sessions.create')));
create.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.hidden = true;
  try {
    const session = await api('POST', '/sessions/', { title: title.value.trim() });
    location.href = `/organizer/sessions/${session.id}`;
  } catch (e) {
    error.textContent = errorText(e);
    error.hidden = false;
    title.focus();
  }
});

main.append(create, error, list);

async function load() {
  const data = await api('GET', '/sessions/?per_page=100');
  if (!data.items.length) {
    fill(list, h('h2', { id: 'list-heading' }, t('sessions.yours')), h('p', { class: 'empty' }, t('sessions.none')));
    return;
  }
  fill(list, h('h2', { id: 'list-heading' }, t('sessions.yours'), ' ', h('span', { class: 'badge' }, num(data.total))),
    h('table', { class: 'table-list' },
      h('caption', { class: 'sr-only' }, t('sessions.yours')),
      h('thead', {}, h('tr', {}, ['sessions.col_title', 'sessions.col_status', 'sessions.col_code', 'sessions.col_people', 'sessions.col_actions']
        .map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, data.items.map((s) => h('tr', {},
        h('th', { scope: 'row' }, h('a', { href: `/organizer/sessions/${s.id}` }, s.title)),
        h('td', {}, h('span', { class: `status status-${s.status}` }, t(`session.${s.status}`))),
        h('td', {}, h('code', {}, s.join_code)),
        h('td', {}, num(s.participant_count)),
        h('td', { class: 'actions' },
          h('a', { class: 'button small secondary', href: `/organizer/sessions/${s.id}` }, t('sessions.edit')),
          s.status !== 'completed' ? h('a', { class: 'button small', href: `/organizer/sessions/${s.id}/run` }, t('sessions.run')) : null,
          h('a', { class: 'button small secondary', href: `/organizer/sessions/${s.id}/report` }, t('sessions.report'))))))));
}

load().catch((e) => { error.textContent = errorText(e); error.hidden = false; });
