// The Logs tab of /status (admins): the service's own log lines with a level filter (that level and above), search,
// time range, older pages, a download of the range as JSON lines, and a live tail: newer lines are fetched when the
// event stream says some were written (logs.appended), or every few seconds when the stream is unavailable.
import { api } from './api.js';
import { live, coalesce } from './live.js';
import { el, formatTime, reportError } from './ui.js';

const Page = 100;
const TailMs = 3_000;
const levels = ['Trace', 'Debug', 'Information', 'Warning', 'Error', 'Critical'];

export function logsPanel() {
  const form = el('form', { class: 'filters', 'data-testid': 'logs-filter' },
    el('label', {}, 'Level ', el('select', { name: 'level' },
      levels.map(level => el('option', { value: level, text: `${level}+`, selected: level === 'Information' })))),
    el('label', {}, 'Search ', el('input', { name: 'search', type: 'search', autocomplete: 'off' })),
    el('label', {}, 'Since ', el('input', { name: 'since', type: 'datetime-local' })),
    el('label', {}, 'Until ', el('input', { name: 'until', type: 'datetime-local' })),
    el('button', { type: 'submit', text: 'Filter' }),
    el('label', {}, el('input', { type: 'checkbox', name: 'tail', 'data-testid': 'logs-tail' }), ' Live tail'),
    el('a', { class: 'button', 'data-testid': 'logs-download', href: '/api/logs/download', text: 'Download' }));
  const list = el('tbody', {});
  const table = el('div', { class: 'table-wrap' }, el('table', { class: 'stack-narrow' },
    el('thead', {}, el('tr', {}, ['When', 'Level', 'Category', 'Message'].map(h => el('th', { text: h })))), list));
  const more = el('button', { type: 'button', 'data-testid': 'logs-more', hidden: true, text: 'Older lines' });
  const empty = el('p', { class: 'dim', 'data-testid': 'logs-empty', hidden: true, text: 'No log lines match.' });
  const section = el('section', { class: 'panel', 'data-tab': 'logs', 'data-testid': 'logs' },
    el('h2', { text: 'Service log' }), form, empty, table, more);

  let cursor = null, newest = null, shown = false, stream = null;
  // Each new listing (the first, a filter) outdates the ones before: an answer that arrives after a newer one was
  // asked for is dropped, or a slow first listing would replace the filtered lines.
  let listing = 0;

  const params = () => {
    const p = new URLSearchParams();
    p.set('level', form.elements.level.value);
    const search = form.elements.search.value.trim();
    if (search) p.set('search', search);
    for (const name of ['since', 'until'])
      if (form.elements[name].value) p.set(name, new Date(form.elements[name].value).toISOString());
    return p;
  };
  const row = line => el('tr', { 'data-log-id': String(line.id), 'data-level': line.level },
    el('td', { class: 'small', text: formatTime(line.at) }),
    el('td', {}, el('span', { class: `badge level-${line.level}`, text: line.level })),
    el('td', { class: 'small dim', text: line.category }),
    el('td', { class: 'small' }, line.message,
      line.job_run_id ? el('span', { class: 'dim', text: ` · job run ${line.job_run_id}` }) : null,
      line.instance_id ? el('span', { class: 'dim', text: ` · instance ${line.instance_id}` }) : null,
      line.exception ? el('pre', { class: 'small', text: line.exception }) : null));

  const load = async append => {
    const p = params();
    p.set('limit', String(Page));
    if (append && cursor) p.set('cursor', String(cursor));
    const mine = append ? listing : ++listing;
    const page = await api(`/api/logs?${p}`);
    if (mine !== listing) return;
    if (!append) { list.replaceChildren(); newest = page.items[0] ?? null; }
    list.append(...page.items.map(row));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    empty.hidden = list.children.length > 0;
    const download = params();
    form.querySelector('[data-testid=logs-download]').href = `/api/logs/download?${download}`;
  };

  // New lines since the newest shown (the same second may repeat: ids decide).
  const tail = async () => {
    try {
      const p = params();
      p.delete('since');
      if (newest) p.set('since', newest.at);
      p.set('limit', String(Page));
      const page = await api(`/api/logs?${p}`, { quiet: true });
      const fresh = page.items.filter(line => !newest || line.id > newest.id);
      if (fresh.length) {
        newest = fresh[0];
        list.prepend(...fresh.map(row));
        empty.hidden = true;
      }
    } catch (error) {
      reportError(error);
    }
  };
  // The stream is open only while the tab shows and the tail is on.
  const follow = () => {
    const on = shown && form.elements.tail.checked;
    if (on && !stream) { stream = live(['logs'], { 'logs.appended': coalesce(tail, 250) }, { poll: tail, pollMs: TailMs }); tail(); }
    if (!on && stream) { stream.close(); stream = null; }
  };

  form.addEventListener('submit', event => { event.preventDefault(); load(false).catch(reportError); });
  form.elements.tail.addEventListener('change', follow);
  more.addEventListener('click', () => load(true).catch(reportError));

  return {
    section,
    active(on) {
      const first = on && !shown;
      shown = on;
      if (first) load(false).then(follow).catch(reportError);
      else follow();
    },
  };
}
