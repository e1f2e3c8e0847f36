// DOM helpers shared by the pages. Data only ever reaches the page as text (textContent, attribute
// values, form values): never as HTML.
import { api, goToLogin, showProblem, clearNotice, ApiError } from './api.js';

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

/** Only same-site absolute paths become links (never javascript: or another host). */
export function safePath(path) {
  return typeof path === 'string' && /^\/(?![/\\])/.test(path) ? path : null;
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
 * a form field. Errors with no place on the form stay in the notice bar, which api() already filled.
 */
export function showFieldErrors(root, errors, rename = {}) {
  let placed = 0;
  for (const [field, messages] of Object.entries(errors || {})) {
    const name = rename[field] ?? field;
    const slot = root.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (!slot) continue;
    slot.textContent = [].concat(messages).join(' ');
    const input = root.querySelector(`[name="${CSS.escape(name)}"]`);
    if (input) input.setAttribute('aria-invalid', 'true');
    placed++;
  }
  return placed;
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

/** A small inline "are you sure?" in place of a native dialog. */
export function confirmInline(container, question, onYes) {
  const previous = [...container.childNodes];
  const restore = () => container.replaceChildren(...previous);
  container.replaceChildren(
    el('span', { class: 'small', text: question + ' ' }),
    el('button', { type: 'button', class: 'small danger', 'data-testid': 'confirm-yes', text: 'Yes', onclick: async () => { restore(); await onYes(); } }),
    el('button', { type: 'button', class: 'small', text: 'No', onclick: restore }));
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
