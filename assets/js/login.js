// Organizer sign-in: the API sets the login cookie; then on to the page asked for.
import { api, errorText, setupHeader } from './lib.js';

setupHeader();
const form = document.getElementById('login-form');
const error = document.getElementById('login-error');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const email = form.email.value.trim();
  const password = form.password.value;
  const button = form.querySelector('button');
  button.disabled = true;
  error.hidden = true;
  try {
    await api('POST', '/auth/login', { email, password });
    location.href = document.body.dataset.next || '/organizer';
  } catch (e) {
    error.textContent = errorText(e);
    error.hidden = false;
    // What was typed is not kept: the next try starts from an empty password field.
    form.password.value = '';
    form.password.focus();
  } finally {
    button.disabled = false;
  }
});
form.email.focus();
