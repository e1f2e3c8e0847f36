// The agent page's Letta panel: what Letta holds for a linked agent (GET /api/agents/{id}/letta): model, system prompt,
// attached tools and memory blocks with the characters each uses of its limit. Admins link or unlink the agent and
// change a block's value; the write carries the ETag of the value shown (If-Match), so a block changed on Letta since
// is not overwritten (412). When Letta does not answer, the panel says so; the rest of the page works as before.
import { api, notify } from './api.js';
import { el, busy, showFieldErrors, clearErrors } from './ui.js';

export async function lettaPanel(id, admin) {
  const panel = document.getElementById('letta-panel');
  const body = document.getElementById('letta-body');
  const url = `/api/agents/${encodeURIComponent(id)}/letta`;
  panel.hidden = false;

  async function load() {
    body.replaceChildren(el('p', { class: 'dim small', text: 'Asking Letta…' }));
    const view = await api(url, { quiet: true }).catch(error => ({ failed: error }));
    if (view.failed) {
      body.replaceChildren(el('p', { class: 'error', text: `The Letta view cannot be loaded: ${view.failed.message}` }));
      return;
    }
    if (!view.letta_uid) body.replaceChildren(...unlinked());
    else if (!view.reachable) body.replaceChildren(...unreachable(view));
    else body.replaceChildren(...linked(view));
  }

  function unlinked() {
    const parts = [el('p', { class: 'dim', 'data-testid': 'letta-unlinked', text: 'Not linked to a Letta agent.' })];
    if (!admin) return parts;
    const input = el('input', { id: 'letta_uid', name: 'letta_uid', type: 'text', maxLength: 42, placeholder: 'agent-…', autocomplete: 'off' });
    const form = el('form', { class: 'field', novalidate: true },
      el('label', { for: 'letta_uid', text: 'Letta agent id' }), input,
      el('div', { class: 'hint', text: 'As Letta shows it: agent- and a UUID.' }),
      el('div', { class: 'error', 'data-error-for': 'letta_uid' }),
      el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', 'data-testid': 'letta-link', text: 'Link' })));
    form.addEventListener('submit', async event => {
      event.preventDefault();
      clearErrors(form);
      await busy(form.querySelector('button'), async () => {
        try {
          await api(url, { method: 'PUT', body: { letta_uid: input.value.trim() }, quiet: true });
          notify('Linked to Letta.');
          await load();
        } catch (error) {
          showFieldErrors(form, error.errors && Object.keys(error.errors).length ? error.errors : { letta_uid: [error.message] });
        }
      });
    });
    return [...parts, form];
  }

  function unreachable(view) {
    return [
      el('p', { class: 'error', role: 'status', 'data-testid': 'letta-unreachable' },
        `Letta cannot be reached right now (${view.error || 'no answer'}). This agent's own settings above still work.`),
      el('p', { class: 'dim small', text: `Linked to ${view.letta_uid}.` }),
      el('div', { class: 'actions' }, el('button', { type: 'button', class: 'small', text: 'Try again', onclick: load }), admin ? unlinkButton() : null),
    ];
  }

  function unlinkButton() {
    return el('button', { type: 'button', class: 'small', 'data-testid': 'letta-unlink', text: 'Unlink', onclick: async event => {
      await busy(event.currentTarget, async () => {
        try {
          await api(url, { method: 'DELETE' });
          notify('Unlinked from Letta (nothing changed on Letta).');
          await load();
        } catch { /* shown in the notice bar */ }
      });
    } });
  }

  function linked(view) {
    const letta = view.letta;
    const facts = el('dl', { class: 'facts' },
      el('dt', { text: 'Letta agent' }), el('dd', { 'data-testid': 'letta-id' }, `${letta.name || ''} (${letta.id})`),
      el('dt', { text: 'Model' }), el('dd', { 'data-testid': 'letta-model', text: letta.model || '—' }),
      el('dt', { text: 'Tools' }), el('dd', { 'data-testid': 'letta-tools' },
        letta.tools.length ? letta.tools.map(t => t.name).join(', ') : 'none attached'));
    const prompt = el('details', {}, el('summary', { text: 'System prompt' }),
      el('pre', { class: 'prompt', 'data-testid': 'letta-system', text: letta.system || '' }));
    const blocks = el('div', { class: 'letta-blocks' }, el('h3', { text: 'Memory blocks' }),
      letta.blocks.length ? letta.blocks.map(block) : el('p', { class: 'dim', text: 'No memory blocks.' }));
    return [facts, prompt, blocks, admin ? el('div', { class: 'actions' }, unlinkButton()) : null];
  }

  function block(b) {
    let etag = b.etag;
    const limit = b.limit == null ? '' : ` / ${b.limit}`;
    const count = el('span', { class: 'dim small', 'data-testid': 'letta-block-characters', text: `${b.characters}${limit} characters` });
    const value = el('textarea', { id: `block-${b.label}`, name: 'value', rows: 4, value: b.value, readOnly: !admin });
    const status = el('div', { class: 'error', 'data-error-for': 'value' });
    const box = el('div', { class: 'field letta-block', 'data-testid': `letta-block-${b.label}` },
      el('label', { for: `block-${b.label}` }, el('strong', { text: b.label }), ' ', count), value, status);
    if (!admin) return box;
    const save = el('button', { type: 'button', class: 'small primary', 'data-testid': 'letta-block-save', text: 'Save block' });
    value.addEventListener('input', () => {
      const used = [...value.value].length;
      count.textContent = `${used}${limit} characters`;
    });
    save.addEventListener('click', () => busy(save, async () => {
      status.textContent = '';
      try {
        const written = await api(`${url}/blocks/${encodeURIComponent(b.label)}`,
          { method: 'PUT', body: { value: value.value }, headers: { 'If-Match': etag }, quiet: true });
        etag = written.etag;
        count.textContent = `${written.characters}${limit} characters`;
        notify(`Saved the ${b.label} block on Letta.`);
      } catch (error) {
        status.textContent = error.status === 412
          ? 'This block changed on Letta since the page loaded; nothing was saved. Reload the panel to see its value.'
          : (error.errors && Object.values(error.errors).flat().join(' ')) || error.message;
      }
    }));
    box.append(el('div', { class: 'actions' }, save));
    return box;
  }

  await load();
}
