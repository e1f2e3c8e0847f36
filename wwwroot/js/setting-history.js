// A setting's recorded changes (GET {url}/history: who, when, old → new; a secret's values read "changed") in a
// dialog, each with a rollback (POST {url}/rollback). "Before the first change" is version 0: the seeded value,
// or no setting at all. Any page with a setting's address uses it: System Settings, the agent page, the tool
// page's configuration lists.
import { api, notify, showProblem } from './api.js';
import { el, busy, confirmDialog, formatTime } from './ui.js';

/** A History button for the setting at url; after a rollback, onRolledBack() reloads what the page shows. */
export function historyButton(url, label, onRolledBack) {
  return el('button', { type: 'button', class: 'small', 'data-action': 'history', 'aria-label': `History of ${label}`, text: 'History',
    onclick: event => busy(event.currentTarget, () => showHistory(url, label, onRolledBack).catch(() => { /* shown in the notice bar */ })) });
}

function shown(value) {
  if (value === null || value === undefined) return '(not set)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export async function showHistory(url, label, onRolledBack) {
  // A setting never set and never changed has no history yet (404): that is an empty history, not an error.
  const changes = await api(`${url}/history`, { quiet: true }).catch(error => {
    if (error.status === 404) return [];
    showProblem(error);
    throw error;
  });
  const dialog = el('dialog', { class: 'history', 'data-testid': 'history-dialog', 'aria-label': `History of ${label}` });
  const close = () => { dialog.close(); dialog.remove(); };
  dialog.addEventListener('cancel', event => { event.preventDefault(); close(); });

  const restore = (version, value, secret, button) => busy(button, async () => {
    const question = version === 0 ? `Roll ${label} back to before its first change?` : `Roll ${label} back to version ${version}?`;
    const detail = value === null ? 'The setting did not exist then: it is removed.'
      : secret ? 'The secret it held then is restored (it is not shown), recorded as a new version.'
      : `It becomes ${shown(value)} again, recorded as a new version.`;
    if (!await confirmDialog(question, { detail, yes: 'Roll back', within: dialog })) return;
    try {
      await api(`${url}/rollback`, { method: 'POST', body: { version } });
      notify(version === 0 ? `Rolled ${label} back to before its first change.` : `Rolled ${label} back to version ${version}.`);
      close();
      await onRolledBack?.();
    } catch { /* shown in the notice bar */ }
  });

  const rows = changes.map(change => el('tr', { 'data-version': String(change.version) },
    el('td', { text: String(change.version) }),
    el('td', { text: formatTime(change.changed_at) }),
    el('td', { 'data-testid': 'who', text: change.changed_by }),
    el('td', { class: 'mono', 'data-testid': 'change' },
      `${change.action}: ${shown(change.old_value)} → ${shown(change.new_value)}`),
    el('td', {}, change.new_value === null || change === changes[0]
      ? null
      : el('button', { type: 'button', class: 'small', 'data-action': 'rollback', text: 'Roll back to this',
          onclick: event => restore(change.version, change.new_value, change.is_encrypted, event.currentTarget) }))));
  const first = changes[changes.length - 1];
  if (first) {
    rows.push(el('tr', { 'data-version': '0' },
      el('td', { text: '0' }), el('td', { class: 'dim', text: 'before the first change' }), el('td', { text: '' }),
      el('td', { class: 'mono', 'data-testid': 'change', text: first.old_value === null ? '(did not exist)' : shown(first.old_value) }),
      el('td', {}, el('button', { type: 'button', class: 'small', 'data-action': 'rollback', text: 'Roll back to this',
        onclick: event => restore(0, first.old_value, first.is_encrypted, event.currentTarget) }))));
  }
  dialog.append(
    el('h2', { text: `History of ${label}` }),
    changes.length === 0
      ? el('p', { class: 'dim', text: 'No change of this setting has been recorded: it still has the value it was seeded with.' })
      : el('div', { class: 'table-wrap', tabIndex: 0, role: 'region', 'aria-label': `Changes of ${label}` },
          el('table', { class: 'stack-narrow' },
            el('thead', {}, el('tr', {}, ['Version', 'When', 'Who', 'Change', ''].map(h => el('th', { text: h })))),
            el('tbody', {}, rows))),
    el('div', { class: 'actions' }, el('button', { type: 'button', 'data-testid': 'history-close', text: 'Close', onclick: close })));
  document.body.append(dialog);
  dialog.showModal();
  dialog.querySelector('[data-testid=history-close]').focus();
}
