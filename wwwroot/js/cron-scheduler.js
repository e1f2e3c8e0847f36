// /cron-scheduler: the scheduled jobs with their schedule in words, next and last run; add, edit, pause/resume,
// run now, delete, and each job's run history.
import { api, notify } from './api.js';
import { live, coalesce } from './live.js';
import { el, startPage, formatTime, clearErrors, showFieldErrors, busy, confirmInline, reportError } from './ui.js';

const defaultParams = { backup: { keep: 7 }, 'chat-retention': { days: 90 } };
const outcomeClass = { ok: 'status-Healthy', skipped: 'status-Off', failed: 'status-Degraded' };

const me = await startPage({ adminOnly: true });
if (me) setUp().catch(reportError);

async function setUp() {
  const form = document.getElementById('job-form');
  const field = name => form.elements.namedItem(name);
  const formTitle = document.getElementById('form-title');
  const save = form.querySelector('[type=submit]');
  const cancel = document.getElementById('cancel-edit');
  const kindHint = document.getElementById('kind-hint');
  const tbody = document.getElementById('jobs');
  const none = document.getElementById('no-jobs');
  const historyPanel = document.getElementById('history-panel');
  const historyTitle = document.getElementById('history-title');
  const runsBody = document.getElementById('runs');
  const noRuns = document.getElementById('no-runs');
  let editing = null, history = null, refresh = 0;

  const kinds = await api('/api/jobs/kinds');
  field('kind').replaceChildren(...kinds.map(k => el('option', { value: k.kind, text: k.kind })));
  const describeKind = () => { kindHint.textContent = (kinds.find(k => k.kind === field('kind').value) || {}).description || ''; };
  field('kind').addEventListener('change', () => {
    describeKind();
    if (!editing) field('params').value = JSON.stringify(defaultParams[field('kind').value] || {});
  });
  field('kind').dispatchEvent(new Event('change'));

  cancel.addEventListener('click', () => edit(null));
  form.addEventListener('submit', async event => {
    event.preventDefault();
    clearErrors(form);
    let params;
    try {
      params = JSON.parse(field('params').value || '{}');
    } catch {
      showFieldErrors(form, { params: ['Must be a JSON object, e.g. {"keep": 7}.'] });
      return;
    }
    const body = { name: field('name').value.trim(), kind: field('kind').value, schedule: field('schedule').value.trim(), enabled: field('enabled').checked, params };
    await busy(save, async () => {
      try {
        const job = editing
          ? await api(`/api/jobs/${editing.id}`, { method: 'PATCH', body })
          : await api('/api/jobs', { method: 'POST', body });
        notify(`${job.name}: ${job.schedule_text}.`);
        edit(null);
        await load();
      } catch (error) {
        const rename = Object.fromEntries(Object.keys(error.errors || {}).filter(k => k.startsWith('params.')).map(k => [k, 'params']));
        showFieldErrors(form, error.errors, rename);
      }
    });
  });

  await load();
  // A run's start and end, from any instance or the scheduler, as they happen.
  const reloadJobs = coalesce(() => load().catch(reportError));
  live(['jobs'], { 'job.run.started': reloadJobs, 'job.run.finished': reloadJobs });
  // Runs end in the background: look again while any job runs.
  function schedule(jobs) {
    clearTimeout(refresh);
    if (jobs.some(j => j.running)) refresh = setTimeout(() => load().catch(reportError), 1000);
  }

  async function load() {
    const jobs = await api('/api/jobs');
    tbody.replaceChildren(...jobs.map(row));
    none.hidden = jobs.length > 0;
    schedule(jobs);
    if (history) {
      const job = jobs.find(j => j.id === history);
      if (job) await showHistory(job); else historyPanel.hidden = true;
    }
  }

  function edit(job) {
    editing = job;
    clearErrors(form);
    form.reset();
    formTitle.textContent = job ? `Edit ${job.name}` : 'Add a job';
    save.textContent = job ? 'Save' : 'Add job';
    cancel.hidden = !job;
    if (job) {
      field('name').value = job.name;
      field('kind').value = job.kind;
      field('schedule').value = job.schedule;
      field('params').value = JSON.stringify(job.params ?? {});
      field('enabled').checked = job.enabled;
      form.scrollIntoView({ block: 'nearest' });
    } else {
      field('params').value = JSON.stringify(defaultParams[field('kind').value] || {});
    }
    describeKind();
  }

  function outcome(run) {
    if (!run) return el('span', { class: 'dim', text: 'never' });
    if (!run.outcome) return el('span', { class: 'badge status-Ready', 'data-testid': 'outcome', text: 'running' });
    return el('span', { class: `badge ${outcomeClass[run.outcome] || ''}`, 'data-testid': 'outcome', text: run.outcome });
  }

  function row(job) {
    const path = `/api/jobs/${job.id}`;
    const actions = el('div', { class: 'actions' });
    actions.append(
      el('button', { type: 'button', class: 'small', 'data-action': 'run', text: 'Run now', disabled: job.running, onclick: event => busy(event.currentTarget, async () => {
        try { await api(`${path}/run`, { method: 'POST' }); notify(`${job.name} started.`); history = job.id; await load(); } catch { /* shown */ }
      }) }),
      el('button', { type: 'button', class: 'small', 'data-action': job.enabled ? 'pause' : 'resume', text: job.enabled ? 'Pause' : 'Resume', onclick: async () => {
        try { await api(path, { method: 'PATCH', body: { enabled: !job.enabled } }); await load(); } catch { /* shown */ }
      } }),
      el('button', { type: 'button', class: 'small', 'data-action': 'edit', text: 'Edit', onclick: () => edit(job) }),
      el('button', { type: 'button', class: 'small', 'data-action': 'history', text: 'History', onclick: () => { history = job.id; showHistory(job).catch(reportError); } }),
      el('button', { type: 'button', class: 'small danger', 'data-action': 'delete', text: 'Delete', onclick: () =>
        confirmInline(actions, `Delete ${job.name} and its run history?`, async () => {
          try { await api(path, { method: 'DELETE' }); notify(`${job.name} deleted.`); if (history === job.id) history = null; await load(); } catch { /* shown */ }
        }) }));
    const last = job.last_run;
    return el('tr', { 'data-job-id': String(job.id), 'data-job-name': job.name },
      el('td', {}, el('div', { 'data-testid': 'job-name', text: job.name }),
        el('div', { class: 'dim small', text: job.kind + (job.enabled ? '' : ' · paused') })),
      el('td', {}, el('div', { 'data-testid': 'schedule-text', text: job.schedule_text }), el('div', { class: 'dim small mono', text: job.schedule })),
      el('td', { class: 'hide-narrow small', 'data-testid': 'next-run', text: job.enabled ? formatTime(job.next_run_at) : 'paused' }),
      el('td', { class: 'small' }, outcome(last), last ? el('div', { class: 'dim', text: formatTime(last.started_at) }) : null),
      el('td', {}, actions));
  }

  async function showHistory(job) {
    const runs = await api(`/api/jobs/${job.id}/runs`);
    historyTitle.textContent = `Run history: ${job.name}`;
    runsBody.replaceChildren(...runs.map(run => el('tr', { 'data-run-id': String(run.id) },
      el('td', { class: 'small', text: formatTime(run.started_at) }),
      el('td', { text: run.trigger }),
      el('td', {}, outcome(run)),
      el('td', { class: 'small', text: run.duration_ms == null ? '—' : `${run.duration_ms} ms` }),
      el('td', { class: 'small', 'data-testid': 'run-message', text: run.message ?? '' }))));
    noRuns.hidden = runs.length > 0;
    historyPanel.hidden = false;
  }
}
