// The page an invitation or reset link opens: the secret is in the address's fragment, so
// it never reaches a server log; the new password is set with it and the organizer is
// signed in.

import { h, t, api, errorText, setupHeader, mainArea, notice } from './lib.js';

setupHeader();
const main = mainArea();
main.classList.add('narrow');
const secret = location.hash.slice(1);
// The secret leaves the address bar, so it is not left in the history or shown on screen.
if (secret) history.replaceState(null, '', location.pathname);

const status = h('p', { class: 'notice', role: 'status', hidden: true });
const password = h('input', { id: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 10, maxlength: 256, 'aria-describedby': 'password-hint' });
const again = h('input', { id: 'repeat', type: 'password', autocomplete: 'new-password', required: true, maxlength: 256 });
const form = h('form', { class: 'card stack', id: 'welcome-form', novalidate: true },
  h('p', { class: 'lead-in' }, t('welcome.intro')),
  h('div', { class: 'field' }, h('label', { for: 'password' }, t('account.new')), password,
    h('p', { class: 'muted small', id: 'password-hint' }, t('account.password_hint'))),
  h('div', { class: 'field' }, h('label', { for: 'repeat' }, t('account.repeat')), again),
  status,
  h('button', { type: 'submit', class: 'button' }, t('welcome.submit')));

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (password.value !== again.value) {
    notice(status, t('account.mismatch'), 'error');
    again.focus();
    return;
  }
  const button = form.querySelector('button');
  button.disabled = true;
  try {
    await api('POST', '/auth/redeem', { token: secret, password: password.value });
    location.href = '/organizer';
  } catch (error) {
    notice(status, errorText(error), 'error');
    password.focus();
    button.disabled = false;
  }
});

if (secret.startsWith('cfl_')) {
  main.append(form);
  password.focus();
} else {
  main.append(h('p', { class: 'error', role: 'alert' }, t('welcome.no_link')));
}
