// The organizer's account: change the password (which ends every other login), see where
// the account is signed in and end any login, make and revoke API tokens, and, for admins,
// the organizers with invitation and reset links.

import { h, t, fill, api, errorText, setupHeader, mainArea, notice, currentOrganizer, lang } from './lib.js';

setupHeader();
const main = mainArea();

const when = (iso) => new Date(iso).toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' });

/** One line about a login or token: made, last used (where from), expiry. */
function usage(item) {
  const used = item.last_used_at
    ? t('account.last_used', { when: when(item.last_used_at), from: item.last_used_from || '?' })
    : t('account.not_used');
  const expires = item.expires_at ? ` · ${t('account.expires', { when: when(item.expires_at) })}` : '';
  return `${used}${expires}`;
}

/** A field with its label; `hint` is read out with the input. */
function field(id, label, input, hint) {
  input.id = id;
  const help = hint ? h('p', { class: 'muted small', id: `${id}-hint` }, hint) : null;
  if (help) input.setAttribute('aria-describedby', help.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, help);
}

// -- Password -------------------------------------------------------------------------------

const current = h('input', { type: 'password', autocomplete: 'current-password', required: true, maxlength: 1024 });
const fresh = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 10, maxlength: 256 });
const again = h('input', { type: 'password', autocomplete: 'new-password', required: true, maxlength: 256 });
const passwordStatus = h('p', { class: 'notice', role: 'status', hidden: true });
const passwordForm = h('form', { class: 'card stack', id: 'password-form', 'aria-labelledby': 'password-heading', novalidate: true },
  h('h2', { id: 'password-heading' }, t('account.password')),
  field('current-password', t('account.current'), current),
  field('new-password', t('account.new'), fresh, t('account.password_hint')),
  field('repeat-password', t('account.repeat'), again),
  passwordStatus,
  h('div', { class: 'toolbar' }, h('button', { type: 'submit', class: 'button' }, t('account.password'))));

passwordForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (fresh.value !== again.value) {
    notice(passwordStatus, t('account.mismatch'), 'error');
    again.focus();
    return;
  }
  try {
    await api('POST', '/auth/password', { current_password: current.value, new_password: fresh.value });
    passwordForm.reset();
    notice(passwordStatus, t('account.changed'), 'ok');
    await loadLogins();
  } catch (error) {
    notice(passwordStatus, errorText(error), 'error');
    const wrongCurrent = error.code === 'wrong_password';
    (wrongCurrent ? current : fresh).focus();
    if (wrongCurrent) current.value = '';
  }
});

// -- Logins and API tokens ------------------------------------------------------------------

const logins = h('section', { class: 'card stack', 'aria-labelledby': 'logins-heading' });
const tokens = h('section', { class: 'card stack', 'aria-labelledby': 'tokens-heading' });
const tokenStatus = h('p', { class: 'notice', role: 'status', hidden: true });

/** A list of logins or tokens, each with its end button. */
function tokenList(items, kind, label) {
  return h('ul', { class: 'plain-list', id: `${kind}-list` }, items.map((item) => {
    const end = h('button', { type: 'button', class: 'button small secondary', 'aria-label': `${t(kind === 'logins' ? 'account.end' : 'account.revoke')}: ${label(item)}` },
      t(kind === 'logins' ? 'account.end' : 'account.revoke'));
    end.addEventListener('click', async () => {
      end.disabled = true;
      try {
        await api('DELETE', `/auth/${kind}/${item.id}`);
        if (item.current) { location.href = '/login'; return; }
        await (kind === 'logins' ? loadLogins() : loadTokens());
      } catch (error) {
        notice(kind === 'logins' ? loginStatus : tokenStatus, errorText(error), 'error');
        end.disabled = false;
      }
    });
    return h('li', { class: 'row spread', 'data-id': item.id },
      h('div', {},
        h('strong', {}, label(item)),
        item.parent_id ? h('span', { class: 'muted small' }, ` · ${t('account.made_with_token')}`) : null,
        h('p', { class: 'muted small' }, usage(item))),
      end);
  }));
}

const loginStatus = h('p', { class: 'notice', role: 'status', hidden: true });

async function loadLogins() {
  const data = await api('GET', '/auth/logins');
  const label = (item) => (item.current ? t('account.this_browser') : t('account.login_item', { when: when(item.created_at) }));
  fill(logins,
    h('h2', { id: 'logins-heading' }, t('account.logins')),
    h('p', { class: 'muted' }, t('account.logins_help')),
    tokenList(data.items, 'logins', label),
    loginStatus);
}

const tokenName = h('input', { required: true, maxlength: 100, autocomplete: 'off' });
const tokenDays = h('input', { type: 'number', min: 1, max: 3650, value: 90, inputmode: 'numeric' });
const tokenForm = h('form', { class: 'inline-form', id: 'token-form', novalidate: true },
  h('div', { class: 'field grow' }, h('label', { for: 'token-name' }, t('field.name')), tokenName),
  h('div', { class: 'field' }, h('label', { for: 'token-days' }, t('field.expires_in_days')), tokenDays),
  h('button', { type: 'submit', class: 'button' }, t('account.create_token')));
tokenName.id = 'token-name';
tokenDays.id = 'token-days';
const secret = h('div', { class: 'secret', hidden: true });

tokenForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    const made = await api('POST', '/auth/tokens', { name: tokenName.value.trim(), expires_in_days: Number(tokenDays.value) });
    tokenForm.reset();
    fill(secret, h('p', {}, t('account.token_made')), h('code', { class: 'token' }, made.token));
    secret.hidden = false;
    notice(tokenStatus, '', 'info');
    await loadTokens();
  } catch (error) {
    notice(tokenStatus, errorText(error), 'error');
    tokenName.focus();
  }
});

async function loadTokens() {
  const data = await api('GET', '/auth/tokens');
  fill(tokens,
    h('h2', { id: 'tokens-heading' }, t('account.tokens')),
    h('p', { class: 'muted' }, t('account.tokens_help')),
    data.items.length ? tokenList(data.items, 'tokens', (item) => item.name) : h('p', { class: 'empty' }, t('account.no_tokens')),
    tokenForm, tokenStatus, secret);
}

// -- Organizers (admins) --------------------------------------------------------------------

const organizers = h('section', { class: 'card stack', 'aria-labelledby': 'organizers-heading' });
const adminStatus = h('p', { class: 'notice', role: 'status', hidden: true });
const link = h('div', { class: 'secret', id: 'link', hidden: true });

function showLink(made) {
  fill(link, h('p', {}, t('account.link_made', { email: made.email, when: when(made.expires_at) })),
    h('code', { class: 'token' }, made.url));
  link.hidden = false;
  notice(adminStatus, '', 'info');
}

const inviteEmail = h('input', { id: 'invite-email', type: 'email', required: true, maxlength: 254, autocomplete: 'off' });
const inviteAdmin = h('input', { id: 'invite-admin', type: 'checkbox' });
const inviteForm = h('form', { class: 'inline-form', id: 'invite-form', 'aria-labelledby': 'invite-heading', novalidate: true },
  h('h3', { id: 'invite-heading' }, t('account.invite')),
  h('div', { class: 'field grow' }, h('label', { for: 'invite-email' }, t('field.email')), inviteEmail),
  h('label', { class: 'check' }, inviteAdmin, ' ', t('account.invite_admin')),
  h('button', { type: 'submit', class: 'button' }, t('account.invite_button')));

inviteForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    showLink(await api('POST', '/admin/invitations', { email: inviteEmail.value.trim(), is_admin: inviteAdmin.checked }));
    inviteForm.reset();
  } catch (error) {
    notice(adminStatus, errorText(error), 'error');
    inviteEmail.focus();
  }
});

async function loadOrganizers() {
  const data = await api('GET', '/admin/organizers');
  fill(organizers,
    h('h2', { id: 'organizers-heading' }, t('account.organizers')),
    h('ul', { class: 'plain-list', id: 'organizers-list' }, data.items.map((o) => {
      const reset = h('button', { type: 'button', class: 'button small secondary', 'aria-label': `${t('account.reset')}: ${o.email}` }, t('account.reset'));
      reset.addEventListener('click', async () => {
        try { showLink(await api('POST', `/admin/organizers/${o.id}/reset`)); } catch (error) { notice(adminStatus, errorText(error), 'error'); }
      });
      const tags = [o.is_admin ? t('account.admin') : null, o.disabled_at ? t('account.disabled') : null].filter(Boolean);
      return h('li', { class: 'row spread' },
        h('div', {}, h('strong', {}, o.email), tags.length ? h('span', { class: 'muted small' }, ` · ${tags.join(' · ')}`) : null),
        reset);
    })),
    inviteForm, adminStatus, link);
}

async function load() {
  const me = await currentOrganizer();
  main.append(h('p', { class: 'muted' }, t('account.signed_in_as', { email: me.organizer.email })),
    passwordForm, logins, tokens);
  await Promise.all([loadLogins(), loadTokens()]);
  if (me.organizer.is_admin) {
    main.append(organizers);
    await loadOrganizers();
  }
}

load().catch((error) => main.append(h('p', { class: 'error', role: 'alert' }, errorText(error))));
