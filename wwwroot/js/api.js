// The one place that talks to the server. Every request sends the session cookie; an error becomes an
// ApiError carrying the problem details and is shown to the user unless the caller asks for quiet.
// 401 sends the browser to /login?next=...; a pending password change sends it to the change form.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `Request failed (${status})`);
    this.status = status;
    this.problem = problem;
    this.errors = problem.errors || {};
    this.redirecting = false;
  }
}

// A request refused because the browser is being sent elsewhere (to sign in, to change a password) ends its caller's
// work by throwing; where no caller catches that, leaving the page is the whole answer, not a script error to report.
addEventListener('unhandledrejection', event => {
  if (event.reason instanceof ApiError && event.reason.redirecting) event.preventDefault();
});

const changeRequired = type => typeof type === 'string' && type.endsWith('password-change-required');
const enrolmentRequired = type => typeof type === 'string' && type.endsWith('two-factor-enrolment-required');

let signingOut = false;

/** Sign-out goes to /login itself: a request the ended session answers with 401 meanwhile must not send it elsewhere. */
export function markSigningOut() { signingOut = true; }

/** Sends the browser to the sign-in page, coming back here afterwards. */
export function goToLogin({ change = false } = {}) {
  if (signingOut || location.pathname === '/login') return;
  const next = location.pathname + location.search + location.hash;
  const query = new URLSearchParams({ next });
  if (change) query.set('change', '1');
  location.assign('/login?' + query);
}

/**
 * Calls the JSON API (a Blob body is sent as the file it is). Returns the parsed body (null for 204); throws
 * ApiError. headers adds request headers (If-Match for a write that must not overwrite someone else's change: a
 * stale one fails with status 412).
 */
export async function api(path, { method = 'GET', body, quiet = false, headers = {} } = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers } };
  if (body instanceof Blob) {
    // A file (an upload) goes as it is, with its own type.
    init.headers['Content-Type'] = body.type || 'application/octet-stream';
    init.body = body;
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await send(path, init, quiet);
  const data = await readBody(response);
  if (response.ok) return data;

  const problem = data && typeof data === 'object' ? data : { title: response.statusText, detail: typeof data === 'string' ? data : '' };
  const error = new ApiError(response.status, problem);
  if (response.status === 401 && location.pathname !== '/login') {
    error.redirecting = true;
    goToLogin();
  } else if (response.status === 403 && changeRequired(problem.type)) {
    error.redirecting = true;
    goToLogin({ change: true });
  } else if (response.status === 403 && enrolmentRequired(problem.type) && location.pathname !== '/security') {
    // This server requires a second factor of the user: the security page is the one place to go until it is on.
    error.redirecting = true;
    location.assign('/security');
  } else if (!quiet) {
    showProblem(error);
  }
  throw error;
}

/**
 * Calls the chat bridge (/api/v1/?action=...), whose answers use its own envelope
 * {success, data} / {success: false, error} instead of problem details.
 */
export async function bridge(action, { method = 'GET', query = {}, body, quiet = false } = {}) {
  const params = new URLSearchParams({ action });
  for (const [key, value] of Object.entries(query)) if (value != null) params.set(key, value);
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await send('/api/v1/?' + params, init, quiet);
  const envelope = await readBody(response);
  if (response.ok && envelope && envelope.success) return envelope.data;
  const detail = envelope && envelope.error ? envelope.error : `The chat bridge answered ${response.status}.`;
  const error = new ApiError(response.status, { title: 'Chat error', detail });
  // Seconds to wait after a 429 (the envelope's retry_after, or the Retry-After header).
  error.retryAfter = Number(envelope?.retry_after ?? response.headers.get('Retry-After')) || null;
  if (!quiet) showProblem(error);
  throw error;
}

async function send(path, init, quiet) {
  try {
    return await fetch(path, init);
  } catch {
    const error = new ApiError(0, { title: 'Network error', detail: 'The server could not be reached. Is Sanctum.Api running?' });
    if (!quiet) showProblem(error);
    throw error;
  }
}

async function readBody(response) {
  if (response.status === 204) return null;
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Shows an error (or any message) in the page's notice bar. */
export function showProblem(error) {
  if (error && error.redirecting) return;
  const problem = error && error.problem ? error.problem : { detail: String(error && error.message || error) };
  const parts = [];
  if (problem.title) parts.push(problem.title);
  if (problem.detail && problem.detail !== problem.title) parts.push(problem.detail);
  const fields = Object.entries(problem.errors || {}).map(([field, messages]) => `${field}: ${[].concat(messages).join(' ')}`);
  notify([parts.join(': '), ...fields].filter(Boolean).join(' — ') || 'Something went wrong.', 'error');
}

/** Shows a message in the notice bar; kind is 'error' or 'ok'. */
export function notify(message, kind = 'ok') {
  const bar = document.getElementById('notice');
  if (!bar) return;
  bar.replaceChildren();
  const text = document.createElement('span');
  text.dataset.testid = 'notice-text';
  text.textContent = message;
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'small';
  close.textContent = 'Dismiss';
  close.addEventListener('click', clearNotice);
  bar.append(text, close);
  bar.classList.toggle('ok', kind === 'ok');
  bar.hidden = false;
}

export function clearNotice() {
  const bar = document.getElementById('notice');
  if (bar) bar.hidden = true;
}
