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

/** fn now, or once the open question on the page (a confirm-yes button) is answered: a reload redraws rows, and a row
 * with a question open must stay until the user answers it. */
export function whenIdle(fn) {
  const run = () => { if (document.querySelector('[data-testid=confirm-yes]')) setTimeout(run, 1000); else fn(); };
  return run;
}
