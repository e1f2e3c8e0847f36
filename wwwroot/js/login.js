// /login: sign in with a password (then a second-factor code or passkey when the account has one) or with a passkey
// alone, then (when the account must) change the password before anything else.
import { api, ApiError, showProblem } from './api.js';
import { safePath, clearErrors, showFieldErrors, busy } from './ui.js';
import { passkeySignIn, passkeysSupported } from './passkeys.js';

const loginForm = document.getElementById('login-form');
const changeForm = document.getElementById('change-form');
const codeForm = document.getElementById('code-form');
// The challenge from the password step when the account has two-factor on (5 minutes, 5 tries).
let challenge = null;
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

// Single sign-on providers (GET /api/auth/providers): a button each, coming back to the same next page.
api('/api/auth/providers', { quiet: true }).then(providers => {
  document.getElementById('providers').replaceChildren(...providers.map(p => Object.assign(document.createElement('a'),
    { className: 'button', href: `${p.login_url}?next=${encodeURIComponent(next)}`, textContent: `Sign in with ${p.display_name}` })));
}).catch(() => { /* password sign-in works either way */ });

// Password form and password-less passkeys, unless local sign-in is off (the break-glass admin: /login?local=1).
api('/api/auth/login/methods', { quiet: true }).then(methods => {
  const password = methods.password || query.get('local') === '1';
  document.getElementById('password-fields').hidden = !password;
  document.getElementById('password-submit').hidden = !password;
  document.getElementById('local-off').hidden = password;
  document.getElementById('passkey-sign-in').hidden = !(methods.passkey && passkeysSupported());
}).catch(() => { /* the form stays as it is */ });

// Back from the provider without a session: say why.
const ssoErrors = {
  no_role_for_groups: 'Your account at the sign-in provider is in no group that has a role here.',
  no_such_user: 'There is no user here with the email your sign-in provider gave.',
  email_not_verified: 'Your sign-in provider has not verified your email.',
  domain_not_allowed: 'Your email\'s domain may not sign in here.',
};
if (query.get('sso_error')) {
  const slot = loginForm.querySelector('[data-error-for=login]');
  slot.textContent = ssoErrors[query.get('sso_error')] ?? 'Single sign-on did not complete; try again or sign in with a password.';
}

function showLogin() {
  changeForm.hidden = true;
  codeForm.hidden = true;
  challenge = null;
  loginForm.hidden = false;
  loginForm.username.focus();
}

function showCode() {
  loginForm.hidden = true;
  codeForm.reset();
  useRecovery(false);
  codeForm.hidden = false;
  document.getElementById('use-passkey').hidden = !(methods.includes('passkey') && passkeysSupported());
  if (methods.includes('totp')) codeForm.code.focus();
  else {
    // Passkeys only: no code to type, straight to the passkey.
    document.getElementById('code-field').hidden = true;
    document.getElementById('use-recovery').hidden = true;
    document.getElementById('code-hint').textContent = 'Confirm with your passkey.';
    document.getElementById('use-passkey').focus();
  }
}

// The second factors of the account being signed in to (totp, passkey).
let methods = [];

function useRecovery(on) {
  document.getElementById('code-field').hidden = on;
  document.getElementById('recovery-field').hidden = !on;
  document.getElementById('use-recovery').textContent = on ? 'Use the app\'s code instead' : 'Use a recovery code instead';
  (on ? codeForm.recovery_code : codeForm.code).focus();
}

// A signed-in answer from either step: on to the page, or to the change form when the password must change.
function signedIn(result, password) {
  if (result.user.must_change_password) showChange(password);
  else location.assign(next);
}

function showChange(currentPassword = '') {
  loginForm.hidden = true;
  codeForm.hidden = true;
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
      if (result.two_factor_required) {
        challenge = result.challenge;
        methods = result.methods ?? ['totp'];
        showCode();
      } else signedIn(result, password);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (!showFieldErrors(loginForm, error.errors)) {
        loginForm.querySelector('[data-error-for=login]').textContent = error.message;
      }
      loginForm.password.select();
    }
  });
});

codeForm.addEventListener('submit', async event => {
  event.preventDefault();
  clearErrors(codeForm);
  const recovery = !document.getElementById('recovery-field').hidden;
  const body = recovery ? { challenge, recovery_code: codeForm.recovery_code.value.trim() } : { challenge, code: codeForm.code.value.trim() };
  await busy(codeForm.querySelector('button[type=submit]'), async () => {
    try {
      signedIn(await api('/api/auth/login/second-factor', { method: 'POST', body, quiet: true }), loginForm.password.value);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (!showFieldErrors(codeForm, error.errors)) codeForm.querySelector('[data-error-for=second-factor]').textContent = error.message;
      (recovery ? codeForm.recovery_code : codeForm.code).select();
    }
  });
});

document.getElementById('use-passkey').addEventListener('click', async event => {
  clearErrors(codeForm);
  await busy(event.target, async () => {
    try {
      signedIn(await passkeySignIn(challenge), loginForm.password.value);
    } catch (error) {
      codeForm.querySelector('[data-error-for=second-factor]').textContent = error.message;
    }
  });
});

document.getElementById('passkey-sign-in').addEventListener('click', async event => {
  clearErrors(loginForm);
  await busy(event.target, async () => {
    try {
      signedIn(await passkeySignIn(null), '');
    } catch (error) {
      loginForm.querySelector('[data-error-for=login]').textContent = error.message;
    }
  });
});

document.getElementById('use-recovery').addEventListener('click', () => useRecovery(document.getElementById('recovery-field').hidden));
document.getElementById('code-cancel').addEventListener('click', () => { loginForm.password.value = ''; showLogin(); });

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
