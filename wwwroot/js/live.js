// Live updates: one EventSource on /api/events for the topics a page names (the session cookie signs it in).
// live(topics, { 'event.name': data => ... }, { poll, pollMs }) calls the handler of each event as it arrives; a
// "reset" (what was missed is no longer kept) and every reconnection after a fallback call poll() once to reload.
// When the stream cannot be kept open the page polls with poll() every pollMs instead, says so discreetly at the
// bottom of the page, and tries the stream again each minute. Returns { close }.
export function live(topics, handlers, { poll, pollMs = 10_000 } = {}) {
  let source = null, timer = 0, retry = 0, failures = 0, fellBack = false;
  const note = document.createElement('p');
  note.className = 'dim live-note';
  note.dataset.testid = 'live-note';
  note.hidden = true;
  note.textContent = `Live updates are unavailable: refreshing every ${Math.round(pollMs / 1000)} s.`;
  document.body.append(note);

  const polling = () => { clearTimeout(timer); timer = setTimeout(async () => { try { await poll?.(); } finally { if (fellBack) polling(); } }, pollMs); };
  const fallBack = () => {
    source?.close();
    if (!fellBack && poll) { fellBack = true; note.hidden = false; polling(); }
    clearTimeout(retry);
    retry = setTimeout(connect, 60_000);
  };
  function connect() {
    source = new EventSource('/api/events?topics=' + encodeURIComponent(topics.join(',')));
    source.onopen = () => {
      failures = 0;
      if (fellBack) { fellBack = false; note.hidden = true; clearTimeout(timer); poll?.(); }
    };
    source.onerror = () => { if (source.readyState === EventSource.CLOSED || ++failures >= 3) fallBack(); };
    source.addEventListener('reset', () => poll?.());
    for (const [name, handler] of Object.entries(handlers)) {
      source.addEventListener(name, event => { try { handler(JSON.parse(event.data)); } catch (error) { console.error(error); } });
    }
  }
  if (typeof EventSource === 'undefined') fallBack(); else connect();
  return { close: () => { source?.close(); clearTimeout(timer); clearTimeout(retry); note.remove(); } };
}

/** fn at most once per burst of calls (ms apart): several events in a row cost one reload. */
export function coalesce(fn, ms = 100) {
  let timer = 0;
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
}

/** Whether a question is open on the page (a confirm-yes button): its row must stay until the user answers it. */
export const asking = () => document.querySelector('[data-testid=confirm-yes]') !== null;

/** fn now, or once the open question on the page is answered: a reload redraws rows. A reload whose answer arrives
 * while a question is open (asked after it started) draws nothing and calls this again. */
export function whenIdle(fn) {
  const run = () => { if (asking()) setTimeout(run, 1000); else fn(); };
  return run;
}
