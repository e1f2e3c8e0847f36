// /login: sign in, then (when the account must) change the password before anything else.
import { api, ApiError, showProblem } from './api.js';
import { safePath, clearErrors, showFieldErrors, busy } from './ui.js';

const loginForm = document.getElementById('login-form');
const changeForm = document.getElementById('change-form');
const query = new URLSearchParams(location.search);
const next = (() => {
  const path = safePath(query.get('next'));
  return path && !path.startsWith('/login') ? path : '/';
})();

// The password rules are the server's: its minimum length and its summary, never a copy kept here.
api('/api/auth/password-rules', { quiet: true }).then(rules => {
  changeForm.new_password.minLength = rules.min_length;
  document.getElementById('password-rules').textContent = rules.summary;
}).catch(() => { /* the server still says what is wrong at submit */ });

function showLogin() {
  changeForm.hidden = true;
  loginForm.hidden = false;
  loginForm.username.focus();
}

function showChange(currentPassword = '') {
  loginForm.hidden = true;
  changeForm.hidden = false;
  changeForm.current_password.value = currentPassword;
  (currentPassword ? changeForm.new_password : changeForm.current_password).focus();
}

loginForm.addEventListener('submit', async event => {
  event.preventDefault();
  clearErrors(loginForm);
  const username = loginForm.username.value.trim();
  const password = loginForm.password.value;
  await busy(loginForm.querySelector('button[type=submit]'), async () => {
    try {
      const result = await api('/api/auth/login', { method: 'POST', body: { username, password }, quiet: true });
      if (result.user.must_change_password) showChange(password);
      else location.assign(next);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (!showFieldErrors(loginForm, error.errors)) {
        loginForm.querySelector('[data-error-for=login]').textContent = error.message;
      }
      loginForm.password.select();
    }
  });
});

changeForm.addEventListener('submit', async event => {
  event.preventDefault();
  clearErrors(changeForm);
  const current = changeForm.current_password.value;
  const fresh = changeForm.new_password.value;
  if (fresh !== changeForm.repeat_password.value) {
    showFieldErrors(changeForm, { repeat_password: ['The two new passwords differ.'] });
    return;
  }
  await busy(changeForm.querySelector('button[type=submit]'), async () => {
    try {
      await api('/api/auth/password', { method: 'POST', body: { current_password: current, new_password: fresh }, quiet: true });
      location.assign(next);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (!showFieldErrors(changeForm, error.errors)) showProblem(error);
    }
  });
});

document.getElementById('change-cancel').addEventListener('click', async () => {
  try { await api('/api/auth/logout', { method: 'POST', quiet: true }); } catch { /* signed out either way */ }
  changeForm.reset();
  showLogin();
});

// Already signed in? Go on, or straight to the change form when one is pending.
try {
  const me = await api('/api/auth/me', { quiet: true });
  if (me.must_change_password) showChange();
  else location.replace(next);
} catch {
  showLogin();
}
