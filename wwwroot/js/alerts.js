// The Alerts tab of /status (admins): channels (webhook, email) with a test send, rules, and the delivery history.
// Secrets are write-only: the API shows them as ********, and a blank field keeps the stored one.
import { api, notify } from './api.js';
import { el, formatTime, reportError, busy, confirmInline } from './ui.js';

const events = ['status', 'job.failed', 'backup.failed', 'audit.broken', 'disk.low'];

export function alertsPanel() {
  const channels = el('div', { 'data-testid': 'alert-channels' });
  const rules = el('div', { 'data-testid': 'alert-rules' });
  const deliveries = el('div', { 'data-testid': 'alert-deliveries' });
  const channelForm = channelEditor();
  const ruleForm = ruleEditor();
  const section = el('section', { class: 'panel', 'data-tab': 'alerts', 'data-testid': 'alerts' },
    el('h2', { text: 'Channels' }), channels, channelForm,
    el('h2', { text: 'Rules' }), rules, ruleForm,
    el('h2', { text: 'Deliveries' }), deliveries);
  let known = [];

  const table = (headings, rows) => el('div', { class: 'table-wrap' }, el('table', { class: 'stack-narrow' },
    el('thead', {}, el('tr', {}, headings.map(h => el('th', { text: h })))), el('tbody', {}, rows)));

  const load = async () => {
    const [c, r, d] = await Promise.all([api('/api/alerts/channels'), api('/api/alerts/rules'), api('/api/alerts/deliveries?limit=50')]);
    known = c;
    channels.replaceChildren(c.length === 0 ? el('p', { class: 'dim', text: 'No channels yet.' }) : table(['Name', 'Type', 'Where', 'On', ''],
      c.map(channel => el('tr', { 'data-channel-id': String(channel.id) },
        el('td', { text: channel.name }),
        el('td', { text: channel.type }),
        el('td', { class: 'small', text: channel.type === 'webhook' ? channel.url : `${channel.smtp_host}:${channel.smtp_port} → ${(channel.to ?? []).join(', ')}` }),
        el('td', { text: channel.enabled ? 'yes' : 'no' }),
        el('td', {}, el('div', { class: 'actions' },
          el('button', { type: 'button', 'data-testid': 'channel-test', text: 'Test', onclick: event => busy(event.currentTarget, async () => {
            const result = await api(`/api/alerts/channels/${channel.id}/test`, { method: 'POST' });
            notify(result.ok ? `Sent through ${channel.name}.` : `${channel.name}: ${result.error}`, result.ok ? 'ok' : 'error');
            event.target.closest('tr').dataset.tested = result.ok ? 'ok' : 'failed';
          }) }),
          el('button', { type: 'button', text: channel.enabled ? 'Disable' : 'Enable', onclick: () =>
            api(`/api/alerts/channels/${channel.id}`, { method: 'PATCH', body: { enabled: !channel.enabled } }).then(load).catch(reportError) }),
          el('button', { type: 'button', class: 'danger', 'data-testid': 'channel-delete', text: 'Delete', onclick: event =>
            confirmInline(event.target.parentElement, `Delete ${channel.name} and its deliveries?`, () =>
              api(`/api/alerts/channels/${channel.id}`, { method: 'DELETE' }).then(load).catch(reportError)) })))))));
    const names = new Map(c.map(channel => [channel.id, channel.name]));
    rules.replaceChildren(r.length === 0 ? el('p', { class: 'dim', text: 'No rules yet.' }) : table(['Name', 'Event', 'Of', 'Grace', 'Channels', 'On', ''],
      r.map(rule => el('tr', { 'data-rule-id': String(rule.id) },
        el('td', { text: rule.name }),
        el('td', { text: rule.event }),
        el('td', { class: 'small', text: rule.event === 'status' ? `${rule.kinds.join(', ')}: ${rule.statuses.join(', ')}` : '' }),
        el('td', { text: rule.event === 'status' ? `${rule.grace_seconds} s` : '' }),
        el('td', { class: 'small', text: rule.channel_ids.map(id => names.get(id) ?? `#${id}`).join(', ') }),
        el('td', { text: rule.enabled ? 'yes' : 'no' }),
        el('td', {}, el('div', { class: 'actions' },
          el('button', { type: 'button', text: rule.enabled ? 'Disable' : 'Enable', onclick: () =>
            api(`/api/alerts/rules/${rule.id}`, { method: 'PATCH', body: { enabled: !rule.enabled } }).then(load).catch(reportError) }),
          el('button', { type: 'button', class: 'danger', text: 'Delete', onclick: event =>
            confirmInline(event.target.parentElement, `Delete ${rule.name}?`, () =>
              api(`/api/alerts/rules/${rule.id}`, { method: 'DELETE' }).then(load).catch(reportError)) })))))));
    deliveries.replaceChildren(d.items.length === 0 ? el('p', { class: 'dim', text: 'Nothing sent yet.' }) : table(['When', 'What', 'Channel', 'Status', 'Attempts', 'Last error'],
      d.items.map(item => el('tr', { 'data-delivery-id': String(item.id), 'data-status': item.status },
        el('td', { class: 'small', text: formatTime(item.created_at) }),
        el('td', {}, el('span', { class: 'dim small', text: `${item.event} ` }), item.summary ?? ''),
        el('td', { text: names.get(item.channel_id) ?? `#${item.channel_id}` }),
        el('td', {}, el('span', { class: `badge status-${item.status === 'sent' ? 'Healthy' : item.status === 'failed' ? 'Off' : 'Ready'}`, text: item.status })),
        el('td', { text: String(item.attempts) }),
        el('td', { class: 'small', text: item.last_error ?? '' })))));
    ruleForm.channels(c);
  };

  channelForm.saved = load;
  ruleForm.saved = load;
  return { section, load };
}

function field(label, control) {
  return el('label', {}, `${label} `, control);
}

function channelEditor() {
  const input = (name, attrs = {}) => el('input', { name, autocomplete: 'off', ...attrs });
  const type = el('select', { name: 'type' }, el('option', { value: 'webhook', text: 'Webhook' }), el('option', { value: 'email', text: 'Email' }));
  const webhook = [field('URL', input('url', { type: 'url', placeholder: 'https://…' })), field('Secret', input('secret', { type: 'password', placeholder: '16+ characters' }))];
  const email = [field('SMTP host', input('smtp_host')), field('Port', input('smtp_port', { type: 'number', value: '587', min: '1', max: '65535' })),
    field('Security', el('select', { name: 'smtp_security' }, ['starttls', 'tls', 'none'].map(v => el('option', { value: v, text: v })))),
    field('User', input('smtp_username')), field('Password', input('smtp_password', { type: 'password' })),
    field('From', input('from', { type: 'email' })), field('To', input('to', { placeholder: 'a@example.com, b@example.com' }))];
  const form = el('form', { class: 'filters', 'data-testid': 'channel-form' },
    field('Name', input('name', { required: true })), field('Type', type), ...webhook, ...email, el('button', { type: 'submit', text: 'Add channel' }));
  const showType = () => {
    for (const label of webhook) label.hidden = type.value !== 'webhook';
    for (const label of email) label.hidden = type.value !== 'email';
  };
  type.addEventListener('change', showType);
  showType();
  form.addEventListener('submit', async event => {
    event.preventDefault();
    const f = form.elements;
    const body = { name: f.name.value.trim(), type: type.value };
    if (type.value === 'webhook') Object.assign(body, { url: f.url.value.trim(), secret: f.secret.value });
    else Object.assign(body, {
      smtp_host: f.smtp_host.value.trim(), smtp_port: Number(f.smtp_port.value) || 587, smtp_security: f.smtp_security.value,
      from: f.from.value.trim(), to: f.to.value.split(',').map(s => s.trim()).filter(Boolean),
      ...(f.smtp_username.value ? { smtp_username: f.smtp_username.value.trim() } : {}),
      ...(f.smtp_password.value ? { smtp_password: f.smtp_password.value } : {}),
    });
    try {
      await api('/api/alerts/channels', { method: 'POST', body });
      form.reset();
      showType();
      notify(`Channel ${body.name} added.`);
      await form.saved?.();
    } catch (error) { reportError(error); }
  });
  return form;
}

function ruleEditor() {
  const event = el('select', { name: 'event' }, events.map(v => el('option', { value: v, text: v })));
  const kinds = el('select', { name: 'kinds', multiple: true }, ['tool', 'instance', 'agent'].map(v => el('option', { value: v, text: v, selected: true })));
  const statuses = el('select', { name: 'statuses', multiple: true }, ['Degraded', 'Off'].map(v => el('option', { value: v, text: v, selected: true })));
  const channels = el('select', { name: 'channel_ids', multiple: true, 'data-testid': 'rule-channels' });
  const statusOnly = [field('Kinds', kinds), field('Statuses', statuses),
    field('Grace (s)', el('input', { name: 'grace_seconds', type: 'number', min: '0', max: '3600', value: '120' }))];
  const form = el('form', { class: 'filters', 'data-testid': 'rule-form' },
    field('Name', el('input', { name: 'name', required: true, autocomplete: 'off' })), field('Event', event), ...statusOnly,
    field('Channels', channels), el('button', { type: 'submit', text: 'Add rule' }));
  const showEvent = () => { for (const label of statusOnly) label.hidden = event.value !== 'status'; };
  event.addEventListener('change', showEvent);
  showEvent();
  const selected = select => [...select.selectedOptions].map(o => o.value);
  form.addEventListener('submit', async e => {
    e.preventDefault();
    const body = { name: form.elements.name.value.trim(), event: event.value, channel_ids: selected(channels).map(Number) };
    if (event.value === 'status')
      Object.assign(body, { kinds: selected(kinds), statuses: selected(statuses), grace_seconds: Number(form.elements.grace_seconds.value) || 0 });
    try {
      await api('/api/alerts/rules', { method: 'POST', body });
      form.elements.name.value = '';
      notify(`Rule ${body.name} added.`);
      await form.saved?.();
    } catch (error) { reportError(error); }
  });
  form.channels = list => channels.replaceChildren(...list.map(c => el('option', { value: String(c.id), text: c.name })));
  return form;
}
