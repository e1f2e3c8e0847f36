// /security: the signed-in user's own second factor: enrol an authenticator app (QR code, secret, confirming code),
// see the recovery codes once, turn it off with a code.
import { api } from './api.js';
import { el, startPage, clearErrors, showFieldErrors, busy, reportError } from './ui.js';

const me = await startPage();
if (me) setUp();

function setUp() {
  const enrol = document.getElementById('enrol');
  const disable = document.getElementById('disable');
  const codes = document.getElementById('codes');

  document.getElementById('start').addEventListener('click', async event => {
    await busy(event.target, async () => {
      const pending = await api('/api/auth/2fa/totp', { method: 'POST' });
      document.getElementById('secret').value = pending.secret;
      document.getElementById('uri').textContent = pending.otpauth_uri;
      // The QR code is drawn by the server for the pending enrolment only; a new one each time.
      document.getElementById('qr').src = '/api/auth/2fa/totp/qr?' + Date.now();
      document.getElementById('off').hidden = true;
      enrol.hidden = false;
      enrol.code.focus();
    });
  });

  enrol.addEventListener('submit', async event => {
    event.preventDefault();
    clearErrors(enrol);
    await busy(enrol.querySelector('[type=submit]'), async () => {
      try {
        const issued = await api('/api/auth/2fa/totp/confirm', { method: 'POST', body: { code: enrol.code.value.trim() } });
        enrol.reset();
        showCodes(issued.recovery_codes);
        await load();
      } catch (error) {
        showFieldErrors(enrol, error.errors);
      }
    });
  });

  disable.addEventListener('submit', async event => {
    event.preventDefault();
    clearErrors(disable);
    await busy(disable.querySelector('[type=submit]'), async () => {
      try {
        await api('/api/auth/2fa/totp', { method: 'DELETE', body: { code: disable.code.value.trim() } });
        disable.reset();
        codes.replaceChildren();
        await load();
      } catch (error) {
        showFieldErrors(disable, error.errors);
      }
    });
  });

  load().catch(reportError);

  function showCodes(list) {
    codes.replaceChildren(el('div', { class: 'inset', role: 'status' },
      el('p', { text: 'Recovery codes: each signs you in once without the app. Keep them somewhere safe; they are shown only this once.' }),
      el('ul', { class: 'secret-box' }, list.map(code => el('li', { text: code })))));
  }

  async function load() {
    const status = await api('/api/auth/2fa');
    document.getElementById('required').hidden = !(status.required && !status.totp_enabled);
    document.getElementById('state').textContent = status.totp_enabled ? 'On: sign-in asks for a code from your app.' : 'Off: your password alone signs you in.';
    document.getElementById('off').hidden = status.totp_enabled || !enrol.hidden;
    disable.hidden = !status.totp_enabled;
    if (status.totp_enabled) {
      enrol.hidden = true;
      document.getElementById('left').textContent = `${status.recovery_codes_left} of 10 recovery codes left.`;
    }
  }
}
