// DOM helpers shared by the pages. Data only ever reaches the page as text (textContent, attribute
// values, form values): never as HTML.
import { api, goToLogin, markSigningOut, showProblem, clearNotice, ApiError } from './api.js';

/**
 * Builds an element. attrs: class, text, dataset-style 'data-*' and 'aria-*' keys, on* listeners, and
 * properties (value, checked, type, name, ...). Children may be nodes, strings (as text) or null.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key.startsWith('data-') || key.startsWith('aria-') || key === 'role' || key === 'for' || key === 'inputmode') node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** An id suggested from a name: lowercase letters, digits and dashes, at most 50 (the API's slug rule). */
export function slug(text) {
  return text.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50).replace(/-+$/, '');
}

/** Only same-site absolute paths become links (never javascript: or another host). */
/**
 * A same-origin path to go to after signing in, or null. Parsed the way the browser will parse it (tabs and
 * newlines dropped, backslashes as slashes), so "/%09/evil.example/" or "/\\evil.example" cannot leave the site.
 */
export function safePath(path) {
  if (typeof path !== 'string' || !path.startsWith('/')) return null;
  let url;
  try { url = new URL(path, location.origin); } catch { return null; }
  if (url.origin !== location.origin) return null;
  // Dot segments can leave a path that starts with two slashes ("/.//host/" resolves to "//host/"), which the browser
  // would then read as another site: the path is used only when resolving it again lands on the same URL.
  const local = url.pathname + url.search + url.hash;
  let again;
  try { again = new URL(local, location.origin); } catch { return null; }
  return again.href === url.href ? local : null;
}

export const statuses = ['Healthy', 'Ready', 'Degraded', 'Off'];

export function badge(status, attrs = {}) {
  const known = statuses.includes(status) ? status : 'Off';
  return el('span', { class: `badge status-${known}`, 'data-testid': 'status', text: status ?? 'Unknown', ...attrs });
}

export function dot(status) {
  const known = statuses.includes(status) ? status : 'Off';
  return el('span', { class: `dot status-${known}`, title: status ?? '', 'aria-hidden': 'true' });
}

export function formatTime(timestamp) {
  if (!timestamp) return '—';
  const date = new Date(timestamp);
  return Number.isNaN(date.getTime()) ? String(timestamp) : date.toLocaleString();
}

export function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min ${s % 60} s`;
  return `${s} s`;
}

/** "3 h 5 min ago" for a past timestamp. */
export function formatAge(timestamp) {
  const time = Date.parse(timestamp);
  return Number.isNaN(time) ? '—' : `${formatDuration((Date.now() - time) / 1000)} ago`;
}

export function formatBytes(bytes) {
  const n = Number(bytes) || 0;
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

const navLinks = [
  { href: '/', text: 'Chat' },
  { href: '/settings', text: 'Tools & Admin' },
  { href: '/status', text: 'Status' },
  { href: '/chat-settings', text: 'Chat settings' },
  { href: '/user-management', text: 'Users', admin: true },
  { href: '/system-settings', text: 'System', admin: true },
  { href: '/create-agent', text: 'New agent', admin: true },
];

/**
 * Every signed-in page starts here: who is signed in (401 → /login; pending password change → the change
 * form), the top bar, and for admin pages a refusal for everyone else. Returns the user, or null when the
 * page must not go on.
 */
export async function startPage({ adminOnly = false } = {}) {
  let me;
  try {
    me = await api('/api/auth/me');
  } catch (error) {
    if (!(error instanceof ApiError)) showProblem(error);
    return null;
  }
  if (me.must_change_password) {
    goToLogin({ change: true });
    return null;
  }
  renderTopBar(me);
  const main = document.querySelector('main');
  main.hidden = false; // admin pages start hidden, so nobody else sees their forms even for a moment
  if (adminOnly && me.role !== 'admin') {
    main.replaceChildren(el('div', { class: 'panel', 'data-testid': 'admins-only' },
      el('h1', { text: 'Administrators only' }),
      el('p', { class: 'dim', text: 'This page changes the system; your role can read but not change it.' }),
      el('a', { href: '/settings', text: 'Back to Tools & Admin' })));
    return null;
  }
  return me;
}

export const isAdmin = me => me && me.role === 'admin';

/** For a page's top-level promise: API errors were already shown by api(); show anything else. */
export function reportError(error) {
  if (!(error instanceof ApiError)) showProblem(error);
}

function renderTopBar(me) {
  const bar = document.getElementById('topbar');
  if (!bar) return;
  const here = location.pathname;
  const nav = el('nav', { class: 'nav', 'aria-label': 'Pages' },
    navLinks.filter(link => !link.admin || isAdmin(me)).map(link =>
      el('a', { href: link.href, text: link.text, 'aria-current': link.href === here ? 'page' : null })));
  const signOut = el('button', { type: 'button', class: 'small', 'data-testid': 'sign-out', text: 'Sign out', onclick: async () => {
    markSigningOut();
    try { await api('/api/auth/logout', { method: 'POST', quiet: true }); } catch { /* signed out either way */ }
    forgetLocalState();
    location.assign('/login');
  } });
  const menu = el('button', { type: 'button', class: 'small menu-toggle', 'aria-expanded': 'false', 'aria-controls': 'nav', text: '☰ Menu' });
  nav.id = 'nav';
  menu.addEventListener('click', () => {
    const open = nav.classList.toggle('open');
    menu.setAttribute('aria-expanded', String(open));
  });
  bar.replaceChildren(
    el('a', { class: 'brand', href: '/', text: '🛡️ Sanctum' }),
    menu,
    nav,
    el('div', { class: 'who' },
      el('span', { class: 'user', 'data-testid': 'current-user' }, me.username, ' · ', el('span', { class: `role-${me.role}`, text: me.role })),
      el('a', { class: 'small', href: '/tokens', 'data-testid': 'tokens-link', text: 'Access tokens', 'aria-current': here === '/tokens' ? 'page' : null }),
      signOut));
}

/**
 * What this browser keeps for a signed-in user (the chat's current session ids), forgotten at sign-out so that the
 * next person at a shared machine finds nothing of it. The conversations themselves stay on the server.
 */
export function forgetLocalState() {
  for (const key of Object.keys(localStorage)) if (key.startsWith('sanctum.chat.')) localStorage.removeItem(key);
}

/** Clears a form's field errors and the notice bar. */
export function clearErrors(root) {
  clearNotice();
  for (const slot of root.querySelectorAll('[data-error-for]')) slot.textContent = '';
  for (const input of root.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

/**
 * Puts the server's field errors next to their fields ([data-error-for=field]); rename maps an API field to
 * a form field. An error keyed by a path inside a field (config.port, config/port, config[0], config/#/port)
 * goes to that field's slot, each message led by its path. Errors with no place on the form stay in the
 * notice bar, which api() already filled. Returns how many errors were placed.
 */
export function showFieldErrors(root, errors, rename = {}) {
  let placed = 0;
  const written = new Set();
  for (const [key, messages] of Object.entries(errors || {})) {
    const { name, path } = fieldOf(root, rename[key] ?? key);
    if (!name) continue;
    const slot = root.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    const text = [].concat(messages).map(m => path ? `${path}: ${m}` : m).join(' ');
    if (written.has(name)) slot.append(el('br'), text);
    else slot.textContent = text;
    written.add(name);
    const input = root.querySelector(`[name="${CSS.escape(name)}"]`);
    if (input) input.setAttribute('aria-invalid', 'true');
    placed++;
  }
  return placed;
}

// The form field an error key belongs to: the key itself, or its longest leading segment that has a slot.
function fieldOf(root, key) {
  const has = name => root.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
  if (has(key)) return { name: key, path: '' };
  const cuts = [...key.matchAll(/[./[#]/g)].map(m => m.index).reverse();
  for (const cut of cuts) {
    const name = key.slice(0, cut);
    if (name && has(name)) return { name, path: key.slice(cut).replace(/^[./#]+/, '') || key };
  }
  return { name: null, path: '' };
}

/**
 * The one confirmation dialog: a modal that says what will happen. Resolves true for the confirming button,
 * false for Cancel or Escape. Hooks: [data-testid=confirm-dialog], [data-testid=confirm-yes].
 */
export function confirmDialog(question, { detail = '', yes = 'Yes', danger = false, within = document.body } = {}) {
  return new Promise(resolve => {
    const dialog = el('dialog', { class: 'confirm', 'data-testid': 'confirm-dialog', 'aria-label': question });
    const finish = answer => { dialog.close(); dialog.remove(); resolve(answer); };
    const confirm = el('button', { type: 'button', class: danger ? 'danger' : 'primary', 'data-testid': 'confirm-yes', text: yes, onclick: () => finish(true) });
    // Native append writes a null as the text "null": a dialog without detail leaves it out.
    dialog.append(...[
      el('p', { class: 'question', text: question }),
      detail ? el('p', { class: 'dim small', text: detail }) : null,
      el('div', { class: 'actions' }, confirm,
        el('button', { type: 'button', 'data-testid': 'confirm-no', text: 'Cancel', onclick: () => finish(false) }))].filter(Boolean));
    dialog.addEventListener('cancel', event => { event.preventDefault(); finish(false); });
    within.append(dialog); // a modal shows on top wherever it sits; within keeps it near what it asks about
    dialog.showModal();
    confirm.focus();
  });
}

/**
 * Guards unsaved edits: isDirty() says whether there are any. While there are, leaving the page (a link on it,
 * reload, close) asks first; mayDiscard() asks before the page switches what its form shows.
 */
export function guardUnsaved(isDirty) {
  let leaving = false;
  window.addEventListener('beforeunload', event => {
    if (!leaving && isDirty()) { event.preventDefault(); event.returnValue = ''; }
  });
  document.addEventListener('click', async event => {
    const link = event.target instanceof Element ? event.target.closest('a[href]') : null;
    if (!link || event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || link.target || !isDirty()) return;
    event.preventDefault();
    if (await confirmDialog('Leave without saving?', { detail: 'Your changes on this page have not been saved.', yes: 'Leave', danger: true })) {
      leaving = true;
      location.assign(link.href);
    }
  });
  return {
    /** True when there is nothing unsaved, or the user agrees to drop it. */
    async mayDiscard(what = 'your changes') {
      return !isDirty() || confirmDialog(`Discard ${what}?`, { detail: 'They have not been saved.', yes: 'Discard', danger: true });
    },
  };
}

/** Parses a JSON text area's value: {value} or {error} (empty text reads as fallback). */
export function parseJson(text, fallback = null) {
  if (!text.trim()) return { value: fallback };
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: `Not valid JSON: ${error.message}` };
  }
}

/** A field for a form: label, input (or given control), hint and its error slot. */
export function formField(label, control, { hint = '', wide = false } = {}) {
  const id = control.id || (control.id = `f-${control.name}-${Math.random().toString(36).slice(2, 8)}`);
  return el('div', { class: wide ? 'field wide' : 'field' },
    el('label', { for: id, text: label }), control,
    hint ? el('div', { class: 'hint', text: hint }) : null,
    el('div', { class: 'error', 'data-error-for': control.name }));
}

/** A select with the given values (strings, or [value, text] pairs). */
export function selectOf(name, options, value) {
  const node = el('select', { name }, options.map(o => Array.isArray(o) ? el('option', { value: o[0], text: o[1] }) : el('option', { value: o, text: o })));
  if (value != null) node.value = value;
  return node;
}

/** Runs fn while the button shows progress and cannot be pressed twice. */
export async function busy(button, fn) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/** The older call shape of confirmDialog: asks, then runs onYes when confirmed. */
export async function confirmInline(container, question, onYes) {
  if (await confirmDialog(question, { danger: true, within: container })) await onYes();
}

/** A new value shown once (a temporary password), with a copy button. */
export function secretOnce(label, value) {
  const box = el('div', { class: 'secret-box', 'data-testid': 'temporary-password' }, value);
  const copy = el('button', { type: 'button', class: 'small', text: 'Copy', onclick: async () => {
    try { await navigator.clipboard.writeText(value); copy.textContent = 'Copied'; } catch { copy.textContent = 'Select and copy it'; }
  } });
  return el('div', { class: 'inset', role: 'status' },
    el('p', { text: label }), box,
    el('div', { class: 'actions' }, copy, el('span', { class: 'dim small', text: 'It is shown only this once.' })));
}
