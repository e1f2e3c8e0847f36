// Passkeys (WebAuthn): the server keeps each ceremony's options and hands out a handle; the browser's JSON forms of
// the options and of the answer (parse…FromJSON, toJSON) travel as they are.
import { api, ApiError } from './api.js';

export function passkeysSupported() {
  return typeof PublicKeyCredential !== 'undefined' && typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function';
}

// Registers a passkey of the signed-in user under this name; the passkey as listed.
export async function registerPasskey(name) {
  const started = await api('/api/auth/passkeys/registration', { method: 'POST', quiet: true });
  const credential = await ask(() => navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(started.options) }));
  return api('/api/auth/passkeys', { method: 'POST', body: { ceremony: started.ceremony, name, credential: credential.toJSON() }, quiet: true });
}

// Signs in with a passkey: alone (challenge null) or as the second factor of the password step's challenge.
export async function passkeySignIn(challenge) {
  const started = await api('/api/auth/login/passkey/options', { method: 'POST', body: challenge ? { challenge } : {}, quiet: true });
  const credential = await ask(() => navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(started.options) }));
  return api('/api/auth/login/passkey', { method: 'POST', body: { ceremony: started.ceremony, credential: credential.toJSON() }, quiet: true });
}

async function ask(call) {
  try {
    const credential = await call();
    if (!credential) throw new Error('No passkey was chosen.');
    return credential;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    // NotAllowedError: cancelled, timed out, or no passkey for this site on the device.
    throw new Error(error?.name === 'NotAllowedError' ? 'The passkey was cancelled or is not available on this device.' : (error?.message ?? String(error)));
  }
}
