// /backup-restore: the stored backups (size, age, kind) with create, download, upload, verify, restore (confirmed,
// with progress and the row counts it changed) and delete.
import { api, notify } from './api.js';
import { live } from './live.js';
import { el, startPage, formatTime, formatAge, formatBytes, busy, confirmInline, reportError } from './ui.js';

const me = await startPage({ adminOnly: true });
if (me) setUp();

function setUp() {
  const tbody = document.getElementById('backups');
  const none = document.getElementById('no-backups');
  const progress = document.getElementById('progress');
  const resultPanel = document.getElementById('result-panel');
  const resultTitle = document.getElementById('result-title');
  const result = document.getElementById('result');
  const create = document.getElementById('create');
  const upload = document.getElementById('upload-file');

  const showResult = (title, ...content) => {
    resultTitle.textContent = title;
    result.replaceChildren(...content);
    resultPanel.hidden = false;
  };

  create.addEventListener('click', () => busy(create, async () => {
    progress.textContent = 'Backing up…';
    try {
      const backup = await api('/api/backups', { method: 'POST' });
      notify(`Backup ${backup.name} created (${formatBytes(backup.size)}).`);
      await load();
    } catch { /* shown in the notice bar */ } finally { progress.textContent = ''; }
  }));

  upload.addEventListener('change', async () => {
    const file = upload.files[0];
    upload.value = '';
    if (!file) return;
    progress.textContent = `Uploading and checking ${file.name}…`;
    try {
      const backup = await api('/api/backups/upload', { method: 'POST', body: file.type ? file : new Blob([file], { type: 'application/zip' }) });
      notify(`${file.name} passed its checks and is stored as ${backup.name}.`);
      await load();
    } catch { /* the problems are in the notice bar */ } finally { progress.textContent = ''; }
  });

  load().catch(reportError);
  // Another admin's backup or restore: its progress and result as they happen.
  // While this page restores, the restore has ended its own session: its report stays on screen until the page moves to
  // the sign-in page, so the stream's news of it (and any reload, which would answer 401) waits.
  let restoring = false;
  const said = text => data => { if (restoring) return; notify(text(data)); load().catch(reportError); };
  live(['backups'], {
    'backup.progress': said(d => `A ${d.operation}${d.name ? ` of ${d.name}` : ''} started${d.by ? ` by ${d.by}` : ''}.`),
    'backup.created': said(d => `Backup ${d.name} created.`),
    'backup.restored': said(d => `Backup ${d.name} restored.`),
    'backup.failed': said(d => `A ${d.operation}${d.name ? ` of ${d.name}` : ''} failed.`),
  }, { poll: () => { if (!restoring) load().catch(reportError); }, pollMs: 30_000 });

  async function load() {
    const backups = await api('/api/backups');
    tbody.replaceChildren(...backups.map(row));
    none.hidden = backups.length > 0;
  }

  function row(backup) {
    const path = `/api/backups/${encodeURIComponent(backup.name)}`;
    const actions = el('div', { class: 'actions' });
    actions.append(
      el('a', { class: 'button small', href: path, download: backup.name, 'data-action': 'download', text: 'Download' }),
      el('button', { type: 'button', class: 'small', 'data-action': 'verify', text: 'Verify', onclick: event => busy(event.currentTarget, async () => {
        try {
          const check = await api(`${path}/verify`);
          if (check.ok) notify(`${backup.name}: signature, checksums, integrity and schema version ${check.schema_version} are fine.`);
          else notify(`${backup.name} failed its checks: ${check.problems.join(' ')}`, 'error');
        } catch { /* shown */ }
      }) }),
      el('button', { type: 'button', class: 'small', 'data-action': 'restore', text: 'Restore…', onclick: () =>
        confirmInline(actions,
          `Restore ${backup.name} from ${formatTime(backup.created_at)}? Every user, agent, tool, setting, job and chat is replaced by the backup's (the audit log is kept); a pre-restore backup of the current data is taken first, and everyone, you too, signs in again.`,
          () => restore(backup, path)) }),
      el('button', { type: 'button', class: 'small danger', 'data-action': 'delete', text: 'Delete', onclick: () =>
        confirmInline(actions, `Delete ${backup.name}?`, async () => {
          try { await api(path, { method: 'DELETE' }); notify(`${backup.name} deleted.`); await load(); } catch { /* shown */ }
        }) }));
    return el('tr', { 'data-backup': backup.name },
      el('td', {}, el('div', { class: 'mono small', 'data-testid': 'backup-name', text: backup.name }),
        el('div', { class: 'dim small', text: `schema ${backup.schema_version} · ${backup.app_version}` })),
      el('td', { 'data-testid': 'backup-kind', text: backup.kind }),
      el('td', { text: formatBytes(backup.size) }),
      el('td', { class: 'hide-narrow small' }, el('div', { text: formatAge(backup.created_at) }), el('div', { class: 'dim', text: formatTime(backup.created_at) })),
      el('td', {}, actions));
  }

  async function restore(backup, path, acceptForeign = false) {
    restoring = true;
    for (const button of document.querySelectorAll('main button')) button.disabled = true;
    progress.textContent = `Restoring ${backup.name}: checking it, taking a pre-restore backup, replacing the database…`;
    try {
      const report = await api(`${path}/restore${acceptForeign ? '?accept_foreign=true' : ''}`, { method: 'POST' });
      // Every table whose content changed: rows added, removed or changed, even when the count stayed the same.
      const changed = report.tables.filter(t => t.content_changed);
      showResult(`Restored ${report.restored}`,
        el('p', { text: `The data before the restore is kept as ${report.pre_restore_backup}. The audit log was kept and records this restore.` }),
        el('div', { class: 'table-wrap' }, el('table', { 'data-testid': 'restore-report' },
          el('thead', {}, el('tr', {}, el('th', { text: 'Table' }), el('th', { text: 'Rows before' }), el('th', { text: 'Rows after' }),
            el('th', { text: 'Added' }), el('th', { text: 'Removed' }), el('th', { text: 'Changed' }))),
          el('tbody', {}, changed.map(t => el('tr', { 'data-table': t.table, class: 'status-Degraded' },
            el('td', { text: t.table }), el('td', { text: t.before ?? '—' }), el('td', { text: t.after ?? '—' }),
            el('td', { text: t.added }), el('td', { text: t.removed }), el('td', { text: t.changed })))))),
        el('p', { class: 'dim small', text: changed.length ? `${changed.length} table(s) changed: ${changed.map(t => t.table).join(', ')}.` : 'No table changed.' }));
      // A restore ends every session, this one too: everyone signs in again.
      notify(`Restored. Every session has ended (${report.sessions_ended}), yours too: sign in again.`);
      setTimeout(() => location.assign('/login?next=/backup-restore'), 4000);
      return;
    } catch (error) {
      restoring = false;
      const problems = Object.values(error?.errors ?? {}).flat().join(' ');
      if (!acceptForeign && /not signed/.test(problems)) {
        const actions = document.querySelector(`tr[data-backup="${CSS.escape(backup.name)}"] .actions`);
        if (actions) confirmInline(actions,
          `${backup.name} was not signed by this installation. Restore it only if you trust where it came from.`,
          () => restore(backup, path, true));
      }
    } finally {
      progress.textContent = '';
      for (const button of document.querySelectorAll('main button')) button.disabled = false;
    }
  }
}
