// /: chat with an agent. The conversations live on the server (/api/chat/sessions/...): the list shows the user's
// sessions with the agent, newest first, titled by their first message; "New chat" starts one, which exists (and is
// asked for) only once its first message is sent. This browser keeps only the current session id per (user, agent),
// and forgets it at sign-out. Messages go out through the chat bridge;
// the newest page of the conversation is polled every two seconds, so replies and delivery states show up.
// Presence is the relay's: when no relay polled the agent recently, the switcher and the conversation say so.
import { api, bridge, showProblem, ApiError } from './api.js';
import { el, startPage, formatTime, reportError } from './ui.js';
import { renderMarkdown } from './markdown.js';
import { live } from './live.js';

const PollMs = 2000;
const PresenceMs = 15000;
const PageSize = 50;

const me = await startPage();
if (me) await start().catch(reportError);

async function start() {
  const select = document.getElementById('agent-select');
  const agentDot = document.getElementById('agent-dot');
  const about = document.getElementById('agent-about');
  const presence = document.getElementById('presence');
  const transcript = document.getElementById('transcript');
  const composer = document.getElementById('composer');
  const input = composer.message;
  const send = composer.querySelector('[data-testid=send]');
  const state = document.getElementById('chat-state');
  const conversations = document.getElementById('conversation-select');
  const newChat = document.getElementById('new-chat');
  const canChat = me.role === 'admin' || me.role === 'user';

  let agents = await api('/api/agents');
  if (agents.length === 0) {
    transcript.replaceChildren(el('p', { class: 'dim', text: 'No agents are available to you yet.' }));
    input.disabled = send.disabled = select.disabled = true;
    return;
  }
  renderSwitcher();
  const wanted = new URLSearchParams(location.search).get('agent') ?? localStorage.getItem('sanctum.chat.agent');
  select.value = agents.some(agent => agent.id === wanted) ? wanted : agents[0].id;

  if (!canChat) {
    input.disabled = send.disabled = true;
    input.placeholder = 'Viewers can read the system but not chat.';
  }

  let conversation = null;
  let waitUntil = 0;

  select.addEventListener('change', () => open(select.value));
  conversations.addEventListener('change', () => open(select.value, conversations.value));
  newChat.disabled = !canChat;
  newChat.addEventListener('click', () => open(select.value, null, { fresh: true }));
  composer.addEventListener('submit', event => { event.preventDefault(); sendMessage(); });
  input.addEventListener('keydown', event => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) { event.preventDefault(); sendMessage(); }
  });
  setInterval(refreshPresence, PresenceMs);
  open(select.value);

  function renderSwitcher() {
    const chosen = select.value;
    select.replaceChildren(...agents.map(agent => el('option', {
      value: agent.id,
      text: (agent.display_name || agent.name) + (connected(agent) ? '' : agent.last_relay_poll_at ? ' (no relay now)' : ' (no relay yet)'),
    })));
    if (chosen) select.value = chosen;
  }

  /** A relay polled the agent within the window; a status typed by an admin does not count. */
  function connected(agent) {
    return agent.status === 'Healthy' && agent.status_source === 'relay';
  }

  /** What the conversation says about the relay: honest, from the last poll. */
  function showPresence(agent) {
    const status = connected(agent) ? 'Healthy' : agent.last_relay_poll_at ? 'Degraded' : 'Off';
    agentDot.className = `dot status-${status}`;
    agentDot.title = status;
    about.textContent = agent.description || '';
    const text = connected(agent)
      ? 'A relay is connected: messages are delivered.'
      : agent.last_relay_poll_at
        ? `No relay connected since ${formatTime(agent.last_relay_poll_at)}: messages wait and are delivered when one connects.`
        : 'No relay has connected to this agent yet: messages wait and are delivered when one connects.';
    presence.textContent = text;
    presence.dataset.status = status;
  }

  async function refreshPresence() {
    try {
      agents = await api('/api/agents', { quiet: true });
      renderSwitcher();
      const agent = agents.find(a => a.id === conversation?.agent.id);
      if (agent) {
        conversation.agent = agent;
        showPresence(agent);
        render();
      }
    } catch { /* the next round tries again */ }
  }

  /**
   * Opens a conversation with the agent: sessionId, else the one this browser last used (when it is still the
   * user's), else the newest; fresh (or none at all) starts a new one that the server knows only after its first message.
   */
  async function open(agentId, sessionId = undefined, { fresh = false } = {}) {
    if (conversation) { clearTimeout(conversation.timer); conversation.stream?.close(); }
    localStorage.setItem('sanctum.chat.agent', agentId);
    const agent = agents.find(a => a.id === agentId);
    showPresence(agent);
    const agentPage = document.getElementById('agent-page');
    agentPage.href = `/agents/${encodeURIComponent(agentId)}`;
    agentPage.hidden = me.role !== 'admin';
    const conv = { agent, sessionId: null, fresh: false, sessions: [], items: new Map(), pending: [], before: undefined, timer: 0 };
    conversation = conv;
    transcript.replaceChildren(el('p', { class: 'dim', text: 'Loading…' }));
    // Nothing can be sent until the conversation's session is known.
    send.disabled = true;
    conv.sessions = await sessionsWith(agentId);
    if (conv !== conversation) return;
    const stored = localStorage.getItem(storageKey(agentId));
    const known = id => conv.sessions.some(s => s.id === id);
    const chosen = fresh ? null : sessionId && known(sessionId) ? sessionId : known(stored) ? stored : conv.sessions[0]?.id ?? null;
    conv.fresh = chosen === null;
    conv.sessionId = chosen ?? newSessionId();
    if (!conv.fresh) localStorage.setItem(storageKey(agentId), conv.sessionId);
    renderConversations(conv);
    send.disabled = !canChat || Date.now() < waitUntil;
    if (conv.fresh) render();
    else await poll(conv, true);
    // A reply appears as soon as the relay posts it; without the stream, live.js polls instead (never for a session that has no message yet).
    if (conv === conversation) conv.stream = live([`chat:${conv.sessionId}`], { 'chat.reply': () => poll(conv) }, { poll: () => { if (!conv.fresh) poll(conv); }, pollMs: PollMs });
    if (canChat) input.focus();
  }

  /** The user's sessions with the agent, newest first (an empty list when they cannot be read). */
  async function sessionsWith(agentId) {
    try {
      return (await api(`/api/chat/sessions?agent_id=${encodeURIComponent(agentId)}&limit=50`, { quiet: true })).items;
    } catch (error) {
      if (error.redirecting) throw error;
      return [];
    }
  }

  function newSessionId() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return 'session_' + [...bytes].map(b => b.toString(16).padStart(2, '0')).join('');
  }

  /** The conversation list: a new one not yet sent first, then the user's sessions newest first, titled by their first message. */
  function renderConversations(conv) {
    const options = conv.sessions.map(s => el('option', { value: s.id, text: `${title(s)} · ${formatTime(s.last_active)}` }));
    if (conv.fresh) options.unshift(el('option', { value: conv.sessionId, text: 'New chat' }));
    conversations.replaceChildren(...options);
    conversations.value = conv.sessionId;
    conversations.disabled = options.length <= 1;
  }

  function title(session) {
    const text = (session.title ?? '').replace(/\s+/g, ' ').trim();
    return text ? (text.length > 60 ? text.slice(0, 59) + '…' : text) : 'Untitled';
  }

  async function poll(conv, first = false) {
    try {
      const page = await history(conv.sessionId);
      if (conv !== conversation) return;
      if (page) {
        for (const item of page.items) conv.items.set(`${item.kind}:${item.id}`, item);
        if (first) conv.before = page.next_before;
      } else if (first) {
        conv.before = null;
      }
      if (Date.now() >= waitUntil) state.textContent = '';
      render();
    } catch (error) {
      if (conv === conversation && !error.redirecting) state.textContent = `Cannot load the conversation (${error.message}); retrying…`;
    } finally {
      if (conv === conversation && !conv.stream) conv.timer = setTimeout(() => poll(conv), PollMs);
    }
  }

  /** The newest page (or the one before `before`); null while the session has no message yet. */
  async function history(sessionId, before) {
    const query = new URLSearchParams({ limit: PageSize });
    if (before) query.set('before', before);
    try {
      return await api(`/api/chat/sessions/${encodeURIComponent(sessionId)}/messages?${query}`, { quiet: true });
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
  }

  async function loadEarlier(button) {
    const conv = conversation;
    button.disabled = true;
    try {
      const page = await history(conv.sessionId, conv.before);
      if (conv !== conversation || !page) return;
      for (const item of page.items) conv.items.set(`${item.kind}:${item.id}`, item);
      conv.before = page.next_before;
      render({ keepScroll: true });
    } catch (error) {
      showProblem(error);
      button.disabled = false;
    }
  }

  async function sendMessage() {
    const text = input.value.trim();
    if (!text || !canChat || !conversation?.sessionId) return;
    if (Date.now() < waitUntil) { showWait(); return; }
    const conv = conversation;
    const pending = { text, timestamp: new Date().toISOString() };
    conv.pending.push(pending);
    input.value = '';
    render();
    try {
      const data = await bridge('messages', {
        method: 'POST', quiet: true,
        body: { session_id: conv.sessionId, message: text, agent_id: conv.agent.id },
      });
      conv.pending.splice(conv.pending.indexOf(pending), 1);
      conv.items.set(`message:${data.message_id}`, { kind: 'message', id: data.message_id, text, timestamp: data.timestamp, delivery_state: 'waiting' });
      if (conv.fresh) {
        // Its first message made the session: keep it, list it, and start following it.
        conv.fresh = false;
        localStorage.setItem(storageKey(conv.agent.id), conv.sessionId);
        conv.sessions.unshift({ id: conv.sessionId, title: text, last_active: data.timestamp });
        if (conv === conversation) {
          renderConversations(conv);
          conv.timer = setTimeout(() => poll(conv), PollMs);
        }
      }
    } catch (error) {
      conv.pending.splice(conv.pending.indexOf(pending), 1);
      if (error.status === 429) {
        // Nothing was stored: the text goes back into the box, and the page says how long to wait.
        if (!input.value) input.value = text;
        waitUntil = Date.now() + (error.retryAfter || 60) * 1000;
        showWait();
      } else {
        pending.failed = error.message;
        conv.pending.push(pending);
        showProblem(error);
      }
    }
    if (conv === conversation) render();
  }

  function showWait() {
    const tick = () => {
      const seconds = Math.ceil((waitUntil - Date.now()) / 1000);
      if (seconds <= 0) { state.textContent = ''; send.disabled = !canChat; return; }
      state.textContent = `Too many messages: you can send again in ${seconds} s.`;
      state.dataset.kind = 'wait';
      send.disabled = true;
      setTimeout(tick, 1000);
    };
    tick();
  }

  function render({ keepScroll = false } = {}) {
    const conv = conversation;
    const nearBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 80;
    const fromBottom = transcript.scrollHeight - transcript.scrollTop;
    const items = [...conv.items.values()].sort(order);
    const nodes = items.map(item => item.kind === 'message' ? mine(item, conv.agent) : theirs(item, conv.agent));
    nodes.push(...conv.pending.map(p => pendingNode(p)));
    if (conv.before) {
      nodes.unshift(el('button', { type: 'button', class: 'small earlier', 'data-testid': 'load-earlier', text: 'Load earlier messages',
        onclick: event => loadEarlier(event.currentTarget) }));
    }
    transcript.replaceChildren(...(nodes.length
      ? nodes
      : [el('p', { class: 'dim', text: `Say hello to ${conv.agent.display_name || conv.agent.name}.` })]));
    if (keepScroll) transcript.scrollTop = transcript.scrollHeight - fromBottom;
    else if (nearBottom || nodes.length) transcript.scrollTop = transcript.scrollHeight;
  }

  // The server's order: by time; within a second a reply follows the message it answers.
  function order(a, b) {
    const key = item => [item.timestamp, item.kind === 'message' ? item.id : item.message_id ?? Number.MAX_SAFE_INTEGER, item.kind === 'message' ? 0 : 1, item.id];
    const x = key(a), y = key(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
  }

  function mine(message, agent) {
    const attempts = message.delivery_attempts;
    const meta = {
      waiting: connected(agent) ? 'Waiting for the relay…' : 'Waiting: no relay connected; it is delivered when one connects',
      leased: 'Delivered to the relay · waiting for a reply',
      answered: `You · ${formatTime(message.timestamp)}`,
      undelivered: `Not delivered: no relay answered${attempts ? ` after ${attempts} attempt${attempts === 1 ? '' : 's'}` : ''}`,
    }[message.delivery_state] ?? `You · ${formatTime(message.timestamp)}`;
    return el('div', { class: `msg mine state-${message.delivery_state}`, 'data-testid': 'message', 'data-state': message.delivery_state },
      message.text, el('span', { class: 'meta', 'data-testid': 'message-state', text: meta }));
  }

  function pendingNode(pending) {
    return el('div', { class: pending.failed ? 'msg mine failed' : 'msg mine', 'data-testid': 'message' },
      pending.text, el('span', { class: 'meta', text: pending.failed ? `Not sent: ${pending.failed}` : 'Sending…' }));
  }

  function theirs(response, agent) {
    return el('div', { class: 'msg theirs', 'data-testid': 'response' },
      el('div', { class: 'md' }, renderMarkdown(response.text)),
      el('span', { class: 'meta', text: `${agent.display_name || agent.name} · ${formatTime(response.timestamp)}` }));
  }

  function storageKey(agentId) { return `sanctum.chat.${me.id}.${agentId}`; }
}
