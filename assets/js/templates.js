// The organizer's templates: each with its versions and their change logs, a download of
// each version as JSON, and a form that makes a session from a version and variant. An
// import form reads a definition document (a file or pasted JSON) as a new template.

import { h, t, fill, api, errorText, setupHeader, mainArea, num, notice } from './lib.js';

setupHeader();
const main = mainArea();
const title = document.getElementById('page-title');
const message = h('p', { class: 'notice', role: 'status', hidden: true });
const list = h('section', { 'aria-labelledby': 'list-heading' });

function failure(error) {
  const field = error.details && error.details.field ? ` (${error.details.field})` : '';
  return errorText(error) + field;
}

// -- Import ---------------------------------------------------------------------------------

const importName = h('input', { id: 'import-name', required: true, maxlength: 200, autocomplete: 'off' });
const importFile = h('input', { id: 'import-file', type: 'file', accept: '.json,application/json' });
const importText = h('textarea', { id: 'import-json', rows: 4, spellcheck: 'false' });
const importError = h('p', { class: 'error', role: 'alert', hidden: true });
const importForm = h('form', { class: 'card stack', id: 'import-form', 'aria-labelledby': 'import-heading' },
  h('h2', { id: 'import-heading' }, t('templates.import')),
  h('p', { class: 'muted' }, t('templates.import_help')),
  h('div', { class: 'field' }, h('label', { for: 'import-name' }, t('templates.name')), importName),
  h('div', { class: 'row' },
    h('div', { class: 'field' }, h('label', { for: 'import-file' }, t('templates.import_file')), importFile),
    h('div', { class: 'field grow' }, h('label', { for: 'import-json' }, t('templates.import_paste')), importText)),
  importError,
  h('div', { class: 'toolbar' }, h('button', { type: 'submit', class: 'button' }, t('templates.import_button'))));

importForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  importError.hidden = true;
  let text = importText.value.trim();
  if (importFile.files.length) text = await importFile.files[0].text();
  let definition;
  try {
    definition = JSON.parse(text);
  } catch {
    importError.textContent = t('templates.not_json');
    importError.hidden = false;
    return;
  }
  try {
    const created = await api('POST', '/templates/', { name: importName.value.trim(), definition });
    importForm.reset();
    notice(message, t('templates.imported', { name: created.name }), 'ok');
    await load();
  } catch (error) {
    importError.textContent = failure(error);
    importError.hidden = false;
  }
});

// -- The list -------------------------------------------------------------------------------

function changeText(change) {
  const what = change.target === 'session' ? t('templates.session_fields')
    : change.target === 'variant' ? t('templates.variant', { name: change.key }) : change.title;
  const fields = change.fields && change.fields.length ? ` (${change.fields.join(', ')})` : '';
  return `${t(`templates.change_${change.change}`)}: ${what}${fields}`;
}

function versionItem(template, version) {
  const variants = version.variants.length ? ` · ${t('templates.variants')}: ${version.variants.join(', ')}` : '';
  return h('li', { class: 'version' },
    h('p', { class: 'version-head' },
      h('strong', {}, t('templates.version', { n: version.version })), ' · ',
      new Date(version.created_at).toLocaleString(), ' · ',
      t('templates.activities', { count: version.activities }), variants, ' · ',
      h('a', { href: `/api/v1/templates/${template.id}/versions/${version.version}`, download: `${template.name}-v${version.version}.json` },
        t('templates.download'))),
    version.note ? h('p', { class: 'muted' }, version.note) : null,
    version.version > 1
      ? (version.changes.length
        ? h('ul', { class: 'changes' }, version.changes.map((c) => h('li', { class: `change change-${c.change}` }, changeText(c))))
        : h('p', { class: 'muted' }, t('templates.no_changes')))
      : null);
}

function newSessionForm(template) {
  const prefix = `t-${template.id}`;
  const version = h('select', { id: `${prefix}-version` },
    template.versions.map((v) => h('option', { value: v.version }, t('templates.version', { n: v.version }))));
  const variant = h('select', { id: `${prefix}-variant`, class: 'variant-select' });
  const fillVariants = () => {
    const chosen = template.versions.find((v) => String(v.version) === version.value) || template.versions[0];
    fill(variant, h('option', { value: '' }, t('templates.base')), chosen.variants.map((name) => h('option', { value: name }, name)));
  };
  version.addEventListener('change', fillVariants);
  fillVariants();
  const sessionTitle = h('input', { id: `${prefix}-title`, maxlength: 200, placeholder: t('templates.title_placeholder') });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const form = h('form', { class: 'new-from-template' },
    h('h3', {}, t('templates.new_session')),
    h('div', { class: 'row' },
      h('div', { class: 'field' }, h('label', { for: `${prefix}-version` }, t('templates.version_label')), version),
      h('div', { class: 'field' }, h('label', { for: `${prefix}-variant` }, t('templates.variant_label')), variant),
      h('div', { class: 'field grow' }, h('label', { for: `${prefix}-title` }, t('templates.session_title')), sessionTitle)),
    error,
    h('button', { type: 'submit', class: 'button' }, t('templates.create_session')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    const body = { version: Number(version.value) };
    if (variant.value) body.variant = variant.value;
    if (sessionTitle.value.trim()) body.title = sessionTitle.value.trim();
    try {
      const session = await api('POST', `/templates/${template.id}/sessions`, body);
      location.href = `/organizer/sessions/${session.id}`;
    } catch (e) {
      error.textContent = failure(e);
      error.hidden = false;
    }
  });
  return form;
}

function templateCard(template) {
  const remove = h('button', { type: 'button', class: 'button small danger' }, t('templates.delete'));
  remove.addEventListener('click', async () => {
    if (!confirm(t('templates.confirm_delete', { name: template.name }))) return;
    try {
      await api('DELETE', `/templates/${template.id}`);
      notice(message, t('templates.deleted', { name: template.name }), 'ok');
      await load();
    } catch (e) { notice(message, errorText(e), 'error'); }
  });
  return h('article', { class: 'card template', 'aria-labelledby': `t-${template.id}-name` },
    h('h2', { id: `t-${template.id}-name` }, template.name, ' ', h('span', { class: 'badge' }, t('templates.version', { n: template.latest_version }))),
    template.description ? h('p', {}, template.description) : null,
    newSessionForm(template),
    h('details', { class: 'versions' },
      h('summary', {}, t('templates.history', { count: template.versions.length })),
      h('ol', { class: 'version-list', reversed: true }, template.versions.map((v) => versionItem(template, v)))),
    h('div', { class: 'toolbar' }, remove));
}

async function load() {
  const data = await api('GET', '/templates/');
  if (!data.items.length) {
    fill(list, h('h2', { id: 'list-heading' }, t('templates.yours')), h('p', { class: 'empty' }, t('templates.none')));
    return;
  }
  const details = await Promise.all(data.items.map((item) => api('GET', `/templates/${item.id}`)));
  fill(list, h('h2', { id: 'list-heading' }, t('templates.yours'), ' ', h('span', { class: 'badge' }, num(details.length))),
    details.map(templateCard));
}

fill(main, title, h('p', { class: 'muted' }, t('templates.intro')), message, list, importForm);
load().catch((e) => notice(message, errorText(e), 'error'));
