// /cron-scheduler: the scheduled jobs with their schedule in words, next and last run; add, edit, pause/resume,
// run now, delete, and each job's run history. While a schedule is typed the form reads it back in words with its
// next five runs (GET /api/jobs/schedule); each kind's params are fields (from GET /api/jobs/kinds). An error the
// server names a field for shows at that field only.
import { api, notify, showProblem } from './api.js';
import { live, coalesce, whenIdle, asking } from './live.js';
import { el, startPage, formatTime, clearErrors, showFieldErrors, busy, confirmInline, reportError, formField } from './ui.js';

const PreviewDelayMs = 250;
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
  const kindOf = name => kinds.find(k => k.kind === name) || { params: [] };
  field('kind').replaceChildren(...kinds.map(k => el('option', { value: k.kind, text: k.kind })));
  const describeKind = () => { kindHint.textContent = kindOf(field('kind').value).description || ''; };
  const paramBox = document.getElementById('param-fields');
  // One field per param of the kind, filled from values (a job's params, or the kind's defaults).
  const showParams = (values = {}) => {
    const params = kindOf(field('kind').value).params || [];
    paramBox.replaceChildren(...(params.length
      ? params.map(p => formField(p.label, el('input', {
          type: 'number', name: `param_${p.name}`, 'data-param': p.name, min: p.minimum, max: p.maximum, step: 1, inputmode: 'numeric',
          value: values[p.name] ?? p.default ?? '', required: p.required,
        }), { hint: `${p.minimum} to ${p.maximum}${p.default != null ? `; ${p.default} when empty` : ''}.` }))
      : [el('p', { class: 'dim small', text: 'This kind takes no params.' })]));
  };
  const paramValues = () => Object.fromEntries([...paramBox.querySelectorAll('[data-param]')]
    .filter(input => input.value.trim() !== '')
    .map(input => [input.dataset.param, /^-?\d+$/.test(input.value.trim()) ? Number(input.value.trim()) : input.value.trim()]));
  field('kind').addEventListener('change', () => { describeKind(); showParams(); });
  field('kind').dispatchEvent(new Event('change'));

  // The schedule read back while it is typed: its reading and next five runs, or the reason it is not valid (at the field).
  const preview = document.getElementById('schedule-preview');
  let previewTimer = 0, previewFor = '';
  const previewSchedule = async () => {
    const schedule = field('schedule').value.trim();
    if (schedule === previewFor) return;
    previewFor = schedule;
    const slot = form.querySelector('[data-error-for=schedule]');
    if (!schedule) { preview.replaceChildren(); slot.textContent = ''; return; }
    try {
      const read = await api(`/api/jobs/schedule?schedule=${encodeURIComponent(schedule)}`, { quiet: true });
      if (previewFor !== schedule) return;
      slot.textContent = '';
      field('schedule').removeAttribute('aria-invalid');
      preview.replaceChildren(el('div', { 'data-testid': 'schedule-reading', text: read.schedule_text }),
        el('ol', { class: 'next-runs dim', 'data-testid': 'next-runs' }, read.next_runs.map(at => el('li', { text: formatTime(at) }))));
    } catch (error) {
      if (previewFor !== schedule || error.redirecting) return;
      preview.replaceChildren();
      if (!showFieldErrors(form, error.errors)) showProblem(error);
    }
  };
  field('schedule').addEventListener('input', () => { clearTimeout(previewTimer); previewTimer = setTimeout(previewSchedule, PreviewDelayMs); });

  cancel.addEventListener('click', () => edit(null));
  form.addEventListener('submit', async event => {
    event.preventDefault();
    clearErrors(form);
    const body = { name: field('name').value.trim(), kind: field('kind').value, schedule: field('schedule').value.trim(), enabled: field('enabled').checked, params: paramValues() };
    await busy(save, async () => {
      try {
        const job = editing
          ? await api(`/api/jobs/${editing.id}`, { method: 'PATCH', body, quiet: true })
          : await api('/api/jobs', { method: 'POST', body, quiet: true });
        notify(`${job.name}: ${job.schedule_text}.`);
        edit(null);
        await load();
      } catch (error) {
        if (error.redirecting) return;
        // params.keep goes to the keep field; an error with no field here goes to the notice bar instead.
        const rename = Object.fromEntries(Object.keys(error.errors || {}).filter(k => k.startsWith('params.'))
          .map(k => [k, paramBox.querySelector(`[data-param="${CSS.escape(k.slice(7))}"]`) ? `param_${k.slice(7)}` : 'params']));
        const placed = showFieldErrors(form, error.errors, rename);
        if (placed < Object.keys(error.errors || {}).length || placed === 0) showProblem(error);
      }
    });
  });

  const reloadWhenIdle = whenIdle(() => load().catch(reportError));
  await load();
  // A run's start and end, from any instance or the scheduler, as they happen.
  const reloadJobs = coalesce(reloadWhenIdle);
  live(['jobs'], { 'job.run.started': reloadJobs, 'job.run.finished': reloadJobs });
  // Runs end in the background: look again while any job runs.
  function schedule(jobs) {
    clearTimeout(refresh);
    if (jobs.some(j => j.running)) refresh = setTimeout(reloadWhenIdle, 1000);
  }

  async function load() {
    const jobs = await api('/api/jobs');
    if (asking()) { reloadWhenIdle(); return; }
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
      field('enabled').checked = job.enabled;
      form.scrollIntoView({ block: 'nearest' });
    }
    describeKind();
    showParams(job?.params ?? {});
    previewFor = '';
    previewSchedule();
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
