// /: chat with an agent over the chat bridge. One session id per (user, agent) kept in localStorage, with the
// messages this browser sent; replies are polled from ?action=responses every two seconds.
import { api, bridge, showProblem } from './api.js';
import { el, startPage, formatTime, reportError } from './ui.js';

const PollMs = 2000;
const KeepSent = 200;

const me = await startPage();
if (me) await start().catch(reportError);

async function start() {
  const select = document.getElementById('agent-select');
  const agentDot = document.getElementById('agent-dot');
  const about = document.getElementById('agent-about');
  const transcript = document.getElementById('transcript');
  const composer = document.getElementById('composer');
  const input = composer.message;
  const send = composer.querySelector('[data-testid=send]');
  const state = document.getElementById('chat-state');
  const canChat = me.role === 'admin' || me.role === 'user';

  const agents = await api('/api/agents');
  if (agents.length === 0) {
    transcript.replaceChildren(el('p', { class: 'dim', text: 'No agents are available to you yet.' }));
    input.disabled = send.disabled = select.disabled = true;
    return;
  }
  select.replaceChildren(...agents.map(agent => el('option', {
    value: agent.id,
    text: (agent.display_name || agent.name) + (agent.status === 'Healthy' || agent.status === 'Ready' ? '' : ` (${agent.status})`),
  })));
  const wanted = new URLSearchParams(location.search).get('agent') ?? localStorage.getItem('sanctum.chat.agent');
  select.value = agents.some(agent => agent.id === wanted) ? wanted : agents[0].id;

  if (!canChat) {
    input.disabled = send.disabled = true;
    input.placeholder = 'Viewers can read the system but not chat.';
  }

  let conversation = null;

  select.addEventListener('change', () => open(select.value));
  composer.addEventListener('submit', event => { event.preventDefault(); sendMessage(); });
  input.addEventListener('keydown', event => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) { event.preventDefault(); sendMessage(); }
  });
  open(select.value);

  function open(agentId) {
    if (conversation) clearTimeout(conversation.timer);
    localStorage.setItem('sanctum.chat.agent', agentId);
    const agent = agents.find(a => a.id === agentId);
    agentDot.className = `dot status-${agent.status}`;
    agentDot.title = agent.status;
    about.textContent = [agent.description, agent.status].filter(Boolean).join(' · ');
    const agentPage = document.getElementById('agent-page');
    agentPage.href = `/agents/${encodeURIComponent(agentId)}`;
    agentPage.hidden = me.role !== 'admin';
    const stored = loadStored(agentId);
    conversation = { agent, key: storageKey(agentId), sessionId: stored.session_id, sent: stored.sent, responses: new Map(), since: null, lastId: null, timer: 0 };
    render();
    poll(conversation);
    if (canChat) input.focus();
  }

  async function sendMessage() {
    const text = input.value.trim();
    if (!text || !canChat) return;
    const conv = conversation;
    const item = { id: null, message: text, timestamp: new Date().toISOString(), pending: true };
    conv.sent.push(item);
    input.value = '';
    render();
    try {
      const data = await bridge('messages', {
        method: 'POST', quiet: true,
        body: { session_id: conv.sessionId, message: text, agent_id: conv.agent.id },
      });
      Object.assign(item, { id: data.message_id, timestamp: data.timestamp, pending: false });
      save(conv);
    } catch (error) {
      Object.assign(item, { pending: false, failed: error.message });
      showProblem(error);
    }
    if (conv === conversation) render();
  }

  async function poll(conv) {
    try {
      const query = { session_id: conv.sessionId, since: conv.since, after_id: conv.lastId };
      const data = await bridge('responses', { query, quiet: true });
      if (conv !== conversation) return;
      let changed = false, latest = conv.since ? Date.parse(conv.since) + 1000 : 0;
      for (const response of data.responses || []) {
        latest = Math.max(latest, Date.parse(response.timestamp) || 0);
        conv.lastId = Math.max(conv.lastId ?? 0, response.id);
        if (conv.responses.has(response.id)) continue;
        conv.responses.set(response.id, response);
        changed = true;
      }
      // Replies are time-stamped to the second: ask from a second earlier (and after the last id where the
      // bridge supports it), dropping the ones already shown.
      if (latest) conv.since = new Date(latest - 1000).toISOString().replace(/\.\d+Z$/, 'Z');
      state.textContent = '';
      if (changed) render();
    } catch (error) {
      if (conv === conversation) state.textContent = `Cannot reach the chat bridge (${error.message}); retrying…`;
    } finally {
      if (conv === conversation) conv.timer = setTimeout(() => poll(conv), PollMs);
    }
  }

  function render() {
    const conv = conversation;
    const nearBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 80;
    const items = [
      ...conv.sent.map(m => ({ kind: 0, time: Date.parse(m.timestamp) || 0, id: m.id ?? Infinity, node: mine(m) })),
      ...[...conv.responses.values()].map(r => ({ kind: 1, time: Date.parse(r.timestamp) || 0, id: r.id, node: theirs(r, conv.agent) })),
    ].sort((a, b) => a.time - b.time || a.kind - b.kind || a.id - b.id);
    transcript.replaceChildren(...(items.length
      ? items.map(i => i.node)
      : [el('p', { class: 'dim', text: `Say hello to ${conv.agent.display_name || conv.agent.name}.` })]));
    if (nearBottom || items.length) transcript.scrollTop = transcript.scrollHeight;
  }

  function mine(message) {
    const meta = message.pending ? 'Sending…' : message.failed ? `Not sent: ${message.failed}` : `You · ${formatTime(message.timestamp)}`;
    return el('div', { class: message.failed ? 'msg mine failed' : 'msg mine', 'data-testid': 'message' },
      message.message, el('span', { class: 'meta', text: meta }));
  }

  function theirs(response, agent) {
    return el('div', { class: 'msg theirs', 'data-testid': 'response' },
      response.response, el('span', { class: 'meta', text: `${agent.display_name || agent.name} · ${formatTime(response.timestamp)}` }));
  }

  function storageKey(agentId) { return `sanctum.chat.${me.id}.${agentId}`; }

  function loadStored(agentId) {
    try {
      const stored = JSON.parse(localStorage.getItem(storageKey(agentId)));
      if (stored && /^session_[A-Za-z0-9_]{1,56}$/.test(stored.session_id) && Array.isArray(stored.sent)) return stored;
    } catch { /* start afresh */ }
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const stored = { session_id: 'session_' + [...bytes].map(b => b.toString(16).padStart(2, '0')).join(''), sent: [] };
    localStorage.setItem(storageKey(agentId), JSON.stringify(stored));
    return stored;
  }

  function save(conv) {
    const sent = conv.sent.filter(m => m.id != null).slice(-KeepSent).map(({ id, message, timestamp }) => ({ id, message, timestamp }));
    localStorage.setItem(conv.key, JSON.stringify({ session_id: conv.sessionId, sent }));
  }
}
