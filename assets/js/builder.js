// The session builder: settings, and the ordered activities with an editor generated from
// each kind's schema and a live preview of what phones will show.

import { h, t, strings, fill, api, errorText, setupHeader, mainArea, kindName, announce, notice } from './lib.js';
import { schemaForm, showFieldError, clearFieldErrors } from './forms.js';
import { renderInput, kindOf } from './kinds.js';

setupHeader();
const sessionId = document.body.dataset.session;
const main = mainArea();
const title = document.getElementById('page-title');
const headerArea = h('section', { class: 'session-head' });
const settingsArea = h('section', { class: 'card', 'aria-labelledby': 'settings-heading' });
const templateArea = h('section', { class: 'card', 'aria-labelledby': 'template-heading' });
const listArea = h('section', { 'aria-labelledby': 'activities-heading' });
const editorArea = h('section', { class: 'editor', hidden: true, 'aria-labelledby': 'editor-heading' });
const message = h('p', { class: 'notice', role: 'status', hidden: true });
main.append(headerArea, message, listArea, editorArea, settingsArea, templateArea);

let session = null;
let activities = [];
let kinds = [];

async function guard(action, success) {
  try {
    await action();
    if (success) notice(message, success, 'ok');
    return true;
  } catch (error) {
    notice(message, errorText(error), 'error');
    return false;
  }
}

// ---------------------------------------------------------------------------------------

function drawHeader() {
  title.textContent = session.title;
  document.title = `${session.title} · Conflicto`;
  const transitions = [];
  if (session.status === 'draft') {
    transitions.push(h('button', { type: 'button', class: 'button', id: 'open-session', onclick: () => setStatus('active', t('builder.opened')) }, t('builder.open')));
  }
  if (session.status === 'active') {
    transitions.push(h('a', { class: 'button', href: `/organizer/sessions/${sessionId}/run`, id: 'run-session' }, t('builder.run')));
    transitions.push(h('button', { type: 'button', class: 'button secondary', onclick: () => confirmThen(t('builder.confirm_close'), () => setStatus('completed', t('builder.closed'))) }, t('builder.close')));
  }
  fill(headerArea,
    h('p', { class: 'meta' },
      h('span', { class: `status status-${session.status}` }, t(`session.${session.status}`)), ' · ',
      t('builder.code'), ' ', h('code', { id: 'join-code' }, session.join_code), ' · ',
      h('a', { href: session.join_url }, session.join_url)),
    h('div', { class: 'toolbar' }, transitions,
      h('a', { class: 'button secondary', href: `/organizer/sessions/${sessionId}/report` }, t('sessions.report')),
      h('button', { type: 'button', class: 'button danger', onclick: () => confirmThen(t('builder.confirm_delete'), deleteSession) }, t('builder.delete_session'))));
}

function confirmThen(question, action) {
  if (window.confirm(question)) action();
}

async function setStatus(status, done) {
  await guard(async () => {
    session = await api('PATCH', `/sessions/${sessionId}`, { status });
    drawHeader();
  }, done);
}

async function deleteSession() {
  if (await guard(() => api('DELETE', `/sessions/${sessionId}`))) location.href = '/organizer';
}

/** An ISO time as a `datetime-local` input's value, in the browser's time zone. */
function localInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

/** A `datetime-local` input's value as an ISO time; null when empty. */
function fromLocalInput(value) {
  return value ? new Date(value).toISOString() : null;
}

function drawSettings() {
  const s = session.settings;
  const teams = session.teams;
  const field = (id, labelKey, input) => h('div', { class: 'field' }, h('label', { for: id }, t(labelKey)), input);
  const check = (id, labelKey, checked) => h('div', { class: 'check' }, h('input', { type: 'checkbox', id, checked }), h('label', { for: id }, t(labelKey)));
  const form = h('form', { class: 'stack' },
    h('h2', { id: 'settings-heading' }, t('builder.settings')),
    field('s-title', 'builder.title', h('input', { id: 's-title', value: session.title, maxlength: 200, required: true })),
    field('s-description', 'builder.description', h('textarea', { id: 's-description', maxlength: 2000, rows: 2 })),
    field('s-max', 'builder.max_participants', h('input', { id: 's-max', type: 'number', min: 1, value: session.max_participants })),
    check('s-late', 'builder.allow_late_join', s.allow_late_join),
    check('s-nick', 'builder.require_nickname', s.require_nickname),
    check('s-filter', 'builder.profanity_filter', s.profanity_filter),
    field('s-pace', 'builder.pace', h('select', { id: 's-pace', 'aria-describedby': 's-pace-hint' },
      h('option', { value: 'live', selected: session.pace !== 'self_paced' }, t('builder.pace_live')),
      h('option', { value: 'self_paced', selected: session.pace === 'self_paced' }, t('builder.pace_self_paced')))),
    h('p', { id: 's-pace-hint', class: 'hint' }, t('builder.pace_hint')),
    field('s-opens', 'builder.opens_at', h('input', { id: 's-opens', type: 'datetime-local', value: localInput(session.opens_at) })),
    field('s-closes', 'builder.closes_at', h('input', { id: 's-closes', type: 'datetime-local', value: localInput(session.closes_at) })),
    field('s-teams', 'builder.teams', h('textarea', { id: 's-teams', rows: 3, 'aria-describedby': 's-teams-hint' })),
    h('p', { id: 's-teams-hint', class: 'hint' }, t('builder.teams_hint')),
    field('s-team-assign', 'builder.team_assign', h('select', { id: 's-team-assign' },
      h('option', { value: 'choose', selected: !teams || teams.assign !== 'auto' }, t('builder.team_choose')),
      h('option', { value: 'auto', selected: !!teams && teams.assign === 'auto' }, t('builder.team_auto')))),
    field('s-team-scoring', 'builder.team_scoring', h('select', { id: 's-team-scoring' },
      h('option', { value: 'sum', selected: !teams || teams.scoring !== 'average' }, t('builder.team_sum')),
      h('option', { value: 'average', selected: !!teams && teams.scoring === 'average' }, t('builder.team_average')))),
    field('s-banned', 'builder.banned_words', h('textarea', { id: 's-banned', rows: 3, 'aria-describedby': 's-banned-hint' })),
    h('p', { id: 's-banned-hint', class: 'hint' }, t('builder.banned_hint')),
    h('button', { type: 'submit', class: 'button' }, t('builder.save_settings')));
  form.querySelector('#s-description').value = session.description || '';
  form.querySelector('#s-banned').value = (s.banned_words || []).join('\n');
  form.querySelector('#s-teams').value = ((teams && teams.names) || []).join('\n');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    guard(async () => {
      session = await api('PATCH', `/sessions/${sessionId}`, {
        title: form.querySelector('#s-title').value.trim(),
        description: form.querySelector('#s-description').value,
        max_participants: Number(form.querySelector('#s-max').value),
        pace: form.querySelector('#s-pace').value,
        hours: { opens_at: fromLocalInput(form.querySelector('#s-opens').value), closes_at: fromLocalInput(form.querySelector('#s-closes').value) },
        teams: {
          names: form.querySelector('#s-teams').value.split('\n').map((n) => n.trim()).filter(Boolean),
          assign: form.querySelector('#s-team-assign').value,
          scoring: form.querySelector('#s-team-scoring').value,
        },
        settings: {
          allow_late_join: form.querySelector('#s-late').checked,
          require_nickname: form.querySelector('#s-nick').checked,
          profanity_filter: form.querySelector('#s-filter').checked,
          banned_words: form.querySelector('#s-banned').value.split('\n').map((w) => w.trim()).filter(Boolean),
        },
      });
      drawHeader();
    }, t('builder.saved'));
  });
  fill(settingsArea, form);
}

// ---------------------------------------------------------------------------------------

async function loadActivities() {
  activities = (await api('GET', `/sessions/${sessionId}/activities`)).items.sort((a, b) => a.position - b.position);
  drawList();
}

function drawList() {
  const kindSelect = h('select', { id: 'new-kind' }, kinds.map((k) => h('option', { value: k.kind }, kindName(k.kind))));
  const kindHelp = h('p', { class: 'hint', id: 'new-kind-help' });
  const describe = () => {
    const key = `kind_help.${kindSelect.value}`;
    const kind = kinds.find((k) => k.kind === kindSelect.value);
    kindHelp.textContent = key in strings ? t(key) : (kind ? kind.description : '');
  };
  kindSelect.addEventListener('change', describe);
  describe();
  fill(listArea,
    h('h2', { id: 'activities-heading' }, t('builder.activities')),
    activities.length ? h('ol', { class: 'agenda' }, activities.map((a, i) => h('li', { class: `agenda-item state-${a.state}` },
      h('span', { class: 'kind-badge' }, kindName(a.kind)),
      h('span', { class: 'agenda-title' }, a.title),
      h('span', { class: 'state' }, t(`state.${a.state}`)),
      h('span', { class: 'actions' },
        h('button', { type: 'button', class: 'button small secondary', disabled: i === 0, 'aria-label': t('builder.move_up', { title: a.title }), onclick: () => move(i, -1) }, '↑'),
        h('button', { type: 'button', class: 'button small secondary', disabled: i === activities.length - 1, 'aria-label': t('builder.move_down', { title: a.title }), onclick: () => move(i, 1) }, '↓'),
        h('button', { type: 'button', class: 'button small secondary', 'aria-label': t('builder.edit_named', { title: a.title }), onclick: () => openEditor(a.kind, a) }, t('builder.edit')),
        h('button', { type: 'button', class: 'button small danger', 'aria-label': t('builder.delete_named', { title: a.title }), onclick: () => confirmThen(t('builder.confirm_delete_activity', { title: a.title }), () => remove(a)) }, t('builder.delete')))))) : h('p', { class: 'empty' }, t('builder.no_activities')),
    h('form', { class: 'card inline-form', id: 'add-activity', onsubmit: (e) => { e.preventDefault(); openEditor(kindSelect.value, null); } },
      h('div', { class: 'field grow' }, h('label', { for: 'new-kind' }, t('builder.kind')), kindSelect, kindHelp),
      h('button', { type: 'submit', class: 'button' }, t('builder.add'))));
}

async function move(index, delta) {
  const order = activities.map((a) => a.id);
  const [id] = order.splice(index, 1);
  order.splice(index + delta, 0, id);
  await guard(async () => {
    activities = (await api('POST', `/sessions/${sessionId}/activities/reorder`, { activity_ids: order })).items.sort((a, b) => a.position - b.position);
    drawList();
    announce(t('builder.moved'));
  });
}

async function remove(activity) {
  await guard(async () => {
    await api('DELETE', `/activities/${activity.id}`);
    await loadActivities();
  }, t('builder.deleted', { title: activity.title }));
}

// ---------------------------------------------------------------------------------------
// The editor

const schemas = new Map();

async function schemaOf(kind) {
  if (!schemas.has(kind)) schemas.set(kind, await api('GET', `/activities/types/${kind}/schema`));
  return schemas.get(kind);
}

/** What a phone would be shown for this config (the server's participant view, approximated). */
function previewActivity(kind, titleText, config, schema) {
  const shown = kindOf(kind).preview(config, schema);
  return { id: 'preview', kind, title: titleText, state: 'active', round: 1, config: shown, kind_state: {}, results_visible: false };
}

async function openEditor(kind, existing) {
  const schema = (await schemaOf(kind)).config_schema || (await schemaOf(kind));
  const titleInput = h('input', { id: 'a-title', maxlength: 200, required: true, value: existing ? existing.title : '' });
  const visibility = h('select', { id: 'a-visibility' },
    ['live', 'hidden'].map((v) => h('option', { value: v, selected: (existing ? existing.results_visibility : kindOf(kind).defaultVisibility) === v }, t(`visibility.${v}`))));
  const limit = h('input', { id: 'a-limit', type: 'number', min: 1, max: 3600, value: existing && existing.time_limit_seconds ? existing.time_limit_seconds : '' });
  const errorEl = h('p', { class: 'error', role: 'alert', hidden: true });
  const preview = h('div', { class: 'phone-frame', 'aria-hidden': 'true' });
  let form = null;
  const refresh = () => {
    let config = {};
    try { config = form.read(); } catch { /* half-typed */ }
    try {
      fill(preview, h('p', { class: 'activity-title' }, titleInput.value || kindName(kind)),
        renderInput({ activity: previewActivity(kind, titleInput.value, config, schema), results: null, own: null, mine: [], submit: async () => {} }));
      preview.querySelectorAll('input,button,textarea,select').forEach((el) => { el.tabIndex = -1; });
    } catch {
      fill(preview, h('p', { class: 'muted' }, t('builder.preview_incomplete')));
    }
  };
  form = schemaForm(schema, existing ? existing.config : {}, refresh);
  titleInput.addEventListener('input', refresh);
  // An uploaded image goes into the text field edited last (the first one until then), as
  // `![name](url)`, which every page shows as the image.
  let lastText = form.el.querySelector('textarea, input:not([type]), input[type=text]');
  form.el.addEventListener('focusin', (event) => {
    if (event.target.matches('textarea, input:not([type]), input[type=text]')) lastText = event.target;
  });
  const imageInput = h('input', { id: 'a-image', type: 'file', accept: 'image/png,image/jpeg,image/webp' });
  const imageStatus = h('p', { class: 'hint', role: 'status' });
  imageInput.addEventListener('change', async () => {
    const file = imageInput.files[0];
    if (!file || !lastText) return;
    try {
      const made = await api('POST', '/images', file, { contentType: 'application/octet-stream' });
      const name = file.name.replace(/\.[a-z0-9]+$/i, '').replace(/[\[\]()]/g, ' ').trim().slice(0, 60);
      lastText.value = `${lastText.value.trimEnd()}${lastText.value.trim() ? ' ' : ''}![${name}](${made.url})`;
      lastText.dispatchEvent(new Event('input', { bubbles: true }));
      imageStatus.textContent = t('builder.image_added', { name: file.name });
    } catch (error) {
      imageStatus.textContent = errorText(error);
    } finally {
      imageInput.value = '';
    }
  });
  const save = h('button', { type: 'submit', class: 'button' }, existing ? t('builder.save_activity') : t('builder.add_activity'));
  const cancel = h('button', { type: 'button', class: 'button secondary', onclick: () => { editorArea.hidden = true; } }, t('builder.cancel'));
  const editor = h('form', { class: 'stack', novalidate: true },
    h('div', { class: 'field', 'data-path': 'title' }, h('label', { for: 'a-title' }, t('builder.activity_title')), titleInput),
    form.el,
    h('div', { class: 'field', 'data-path': 'image' }, h('label', { for: 'a-image' }, t('builder.image')), imageInput, imageStatus),
    h('div', { class: 'row' },
      h('div', { class: 'field', 'data-path': 'results_visibility' }, h('label', { for: 'a-visibility' }, t('builder.visibility')), visibility),
      h('div', { class: 'field', 'data-path': 'time_limit_seconds' }, h('label', { for: 'a-limit' }, t('builder.time_limit')), limit)),
    errorEl, h('div', { class: 'toolbar' }, save, cancel));
  editor.addEventListener('submit', async (event) => {
    event.preventDefault();
    errorEl.hidden = true;
    clearFieldErrors(editor);
    const body = {
      title: titleInput.value.trim(),
      config: form.read(),
      results_visibility: visibility.value,
    };
    if (limit.value) body.time_limit_seconds = Number(limit.value);
    try {
      if (existing) await api('PATCH', `/activities/${existing.id}`, body);
      else await api('POST', `/sessions/${sessionId}/activities`, { kind, ...body });
      editorArea.hidden = true;
      await loadActivities();
      notice(message, existing ? t('builder.activity_saved', { title: body.title }) : t('builder.activity_added', { title: body.title }), 'ok');
      document.getElementById('add-activity')?.querySelector('select')?.focus();
    } catch (error) {
      // The error goes next to its field; the summary under the form points to it.
      const field = error.details && error.details.field;
      const placed = field && showFieldError(editor, field, errorText(error));
      errorEl.textContent = placed ? t('builder.check_marked') : errorText(error);
      errorEl.hidden = false;
    }
  });
  fill(editorArea,
    h('h2', { id: 'editor-heading' }, existing ? t('builder.edit_kind', { kind: kindName(kind) }) : t('builder.new_kind', { kind: kindName(kind) })),
    h('div', { class: 'editor-grid' }, editor,
      h('aside', { class: 'preview', 'aria-label': t('builder.preview') }, h('h3', {}, t('builder.preview')), preview)));
  editorArea.hidden = false;
  refresh();
  titleInput.focus();
}

// -- Templates, the definition, and quiz questions from a spreadsheet ---------------------

async function drawTemplate() {
  const origin = session.template;
  let parent = null;
  if (origin) parent = await api('GET', `/templates/${origin.template_id}`).catch(() => null);
  const name = h('input', { id: 'template-name', maxlength: 200, required: true, value: session.title });
  const saveNew = h('form', { class: 'row', id: 'save-template' },
    h('div', { class: 'field grow' }, h('label', { for: 'template-name' }, t('builder.template_name')), name),
    h('button', { type: 'submit', class: 'button secondary' }, t('builder.save_template')));
  saveNew.addEventListener('submit', async (event) => {
    event.preventDefault();
    await guard(async () => {
      const created = await api('POST', '/templates/', { name: name.value.trim(), session_id: sessionId });
      session = await api('GET', `/sessions/${sessionId}`);
      await drawTemplate();
      notice(message, t('builder.template_saved', { name: created.name }), 'ok');
    });
  });
  let saveVersion = null;
  if (parent && !origin.variant) {
    saveVersion = h('button', { type: 'button', class: 'button', id: 'save-version' }, t('builder.save_version', { n: parent.latest_version + 1, name: parent.name }));
    saveVersion.addEventListener('click', () => guard(async () => {
      const version = await api('POST', `/templates/${parent.id}/versions`, { session_id: sessionId });
      session = await api('GET', `/sessions/${sessionId}`);
      await drawTemplate();
      notice(message, t('builder.version_saved', { n: version.version, name: parent.name, changes: version.changes.length }), 'ok');
    }));
  }
  // One form per kind that can be made from a CSV file (a quiz from its questions).
  const csvForms = kinds.filter((k) => k.csv_import).map((k) => {
    const csvFile = h('input', { id: `csv-${k.kind}`, type: 'file', accept: '.csv,text/csv' });
    const csvForm = h('form', { class: 'row csv-form', id: `csv-form-${k.kind}` },
      h('div', { class: 'field grow' }, h('label', { for: `csv-${k.kind}` }, t('builder.csv', { kind: kindName(k.kind) })), csvFile),
      h('button', { type: 'submit', class: 'button secondary' }, t('builder.csv_import', { kind: kindName(k.kind) })));
    csvForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      const file = csvFile.files[0];
      if (!file) return;
      const title = file.name.replace(/\.csv$/i, '').slice(0, 200) || kindName(k.kind);
      try {
        const made = await api('POST', `/sessions/${sessionId}/activities/csv/${k.kind}?title=${encodeURIComponent(title)}`, await file.text(), { contentType: 'text/csv' });
        csvForm.reset();
        await loadActivities();
        notice(message, t('builder.csv_imported', { title: made.title, kind: kindName(k.kind) }), 'ok');
      } catch (error) {
        notice(message, errorText(error), 'error');
      }
    });
    return csvForm;
  });
  fill(templateArea,
    h('h2', { id: 'template-heading' }, t('builder.template')),
    origin ? h('p', { class: 'meta', id: 'template-origin' }, t('builder.made_from', {
      name: parent ? parent.name : '–', n: origin.version, variant: origin.variant || t('templates.base') })) : null,
    saveVersion ? h('div', { class: 'toolbar' }, saveVersion) : null,
    saveNew,
    h('p', {}, h('a', { href: `/api/v1/sessions/${sessionId}/definition`, download: `${session.title}.json` }, t('builder.download_definition'))),
    session.status !== 'completed' ? csvForms : null);
}

async function start() {
  [session, kinds] = await Promise.all([
    api('GET', `/sessions/${sessionId}`),
    api('GET', '/activities/types').then((r) => r.items),
  ]);
  drawHeader();
  drawSettings();
  await loadActivities();
  await drawTemplate();
}

start().catch((error) => notice(message, errorText(error), 'error'));
