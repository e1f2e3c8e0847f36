// /security: the signed-in user's own second factor: enrol an authenticator app (QR code, secret, confirming code),
// see the recovery codes once, turn it off with a code; passkeys (add, rename, remove); the linked provider.
import { api } from './api.js';
import { registerPasskey } from './passkeys.js';
import { el, startPage, clearErrors, showFieldErrors, busy, reportError, confirmDialog } from './ui.js';

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
  loadPasskeys().catch(reportError);

  const passkeyForm = document.getElementById('passkey-form');
  passkeyForm.addEventListener('submit', async event => {
    event.preventDefault();
    clearErrors(passkeyForm);
    const name = passkeyForm.name.value.trim() || 'passkey';
    await busy(passkeyForm.querySelector('[type=submit]'), async () => {
      try {
        await registerPasskey(name);
        passkeyForm.reset();
        await loadPasskeys();
      } catch (error) {
        if (!showFieldErrors(passkeyForm, error.errors)) passkeyForm.querySelector('[data-error-for=credential]').textContent = error.message;
      }
    });
  });

  async function loadPasskeys() {
    const list = await api('/api/auth/passkeys');
    document.getElementById('passkey-list').replaceChildren(...(list.length ? list.map(passkey => el('li', { 'data-testid': 'passkey' },
      el('span', { text: `${passkey.name} · added ${passkey.created_at}${passkey.last_used_at ? ` · last used ${passkey.last_used_at}` : ''} ` }),
      el('button', { type: 'button', class: 'small', text: 'Rename', onclick: () => rename(passkey) }),
      el('button', { type: 'button', class: 'small danger', text: 'Remove', onclick: () => remove(passkey) })))
      : [el('li', { class: 'dim', text: 'No passkeys yet.' })]));
  }

  async function rename(passkey) {
    const name = prompt('New name of the passkey', passkey.name);
    if (!name) return;
    await api(`/api/auth/passkeys/${passkey.id}`, { method: 'PATCH', body: { name } }).catch(reportError);
    await loadPasskeys();
  }

  async function remove(passkey) {
    if (!await confirmDialog(`Remove the passkey “${passkey.name}”?`, { detail: 'It will no longer sign you in.', yes: 'Remove', danger: true })) return;
    await api(`/api/auth/passkeys/${passkey.id}`, { method: 'DELETE' }).catch(reportError);
    await loadPasskeys();
  }

  function showCodes(list) {
    codes.replaceChildren(el('div', { class: 'inset', role: 'status' },
      el('p', { text: 'Recovery codes: each signs you in once without the app. Keep them somewhere safe; they are shown only this once.' }),
      el('ul', { class: 'secret-box' }, list.map(code => el('li', { text: code })))));
  }

  async function load() {
    const status = await api('/api/auth/2fa');
    document.getElementById('required').hidden = !(status.required && !status.totp_enabled && !status.passkeys);
    const links = status.linked_providers ?? [];
    document.getElementById('linked-provider').textContent = links.length
      ? `Linked to ${links.join(', ')}: you can sign in through it.`
      : 'None: you sign in here with your password.';
    document.getElementById('state').textContent = status.totp_enabled ? 'On: sign-in asks for a code from your app.' : 'Off: your password alone signs you in.';
    document.getElementById('off').hidden = status.totp_enabled || !enrol.hidden;
    disable.hidden = !status.totp_enabled;
    if (status.totp_enabled) {
      enrol.hidden = true;
      document.getElementById('left').textContent = `${status.recovery_codes_left} of 10 recovery codes left.`;
    }
  }
}
