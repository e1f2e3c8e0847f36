// A safe Markdown subset for chat replies, built with DOM APIs only: paragraphs, line breaks, *emphasis*,
// **strong**, `inline code`, fenced code blocks, - and 1. lists, and [links](https://...) limited to http and
// https (rel="noopener noreferrer"). Everything else, raw HTML included, stays text: no string ever becomes markup.

/** Renders text as a DocumentFragment of the subset. */
export function renderMarkdown(text) {
  const fragment = document.createDocumentFragment();
  const lines = String(text ?? '').replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = /^\s*```/.exec(line);
    if (fence) {
      const code = [];
      i++;
      while (i < lines.length && !/^\s*```\s*$/.test(lines[i])) code.push(lines[i++]);
      i++; // the closing fence (or the end)
      const pre = document.createElement('pre');
      const inner = document.createElement('code');
      inner.textContent = code.join('\n');
      pre.append(inner);
      fragment.append(pre);
      continue;
    }
    if (!line.trim()) { i++; continue; }
    const item = listItem(line);
    if (item) {
      const list = document.createElement(item.ordered ? 'ol' : 'ul');
      while (i < lines.length) {
        const next = listItem(lines[i]);
        if (!next || next.ordered !== item.ordered) break;
        const li = document.createElement('li');
        li.append(inline(next.text));
        list.append(li);
        i++;
      }
      fragment.append(list);
      continue;
    }
    // A paragraph runs to a blank line, a fence or a list; its single line breaks are kept.
    const paragraph = document.createElement('p');
    let first = true;
    while (i < lines.length && lines[i].trim() && !/^\s*```/.test(lines[i]) && !listItem(lines[i])) {
      if (!first) paragraph.append(document.createElement('br'));
      paragraph.append(inline(lines[i]));
      first = false;
      i++;
    }
    fragment.append(paragraph);
  }
  return fragment;
}

function listItem(line) {
  const bullet = /^\s*[-*+]\s+(.*)$/.exec(line);
  if (bullet) return { ordered: false, text: bullet[1] };
  const number = /^\s*\d{1,9}[.)]\s+(.*)$/.exec(line);
  return number ? { ordered: true, text: number[1] } : null;
}

// Earliest match wins; code first so that nothing inside backticks is read as Markdown.
const inlinePattern = /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)|\[([^\]\n]+)\]\(([^)\s]+)\)|\*\*(?=\S)([\s\S]*?\S)\*\*|__(?=\S)([\s\S]*?\S)__|\*(?=\S)([^*]*?\S)\*|(?<![A-Za-z0-9])_(?=\S)([^_]*?\S)_(?![A-Za-z0-9])/;

function inline(text) {
  const fragment = document.createDocumentFragment();
  let rest = text;
  while (rest) {
    const match = inlinePattern.exec(rest);
    if (!match) { fragment.append(rest); break; }
    if (match.index) fragment.append(rest.slice(0, match.index));
    const [whole, , code, label, href, strong1, strong2, em1, em2] = match;
    if (code !== undefined) {
      fragment.append(element('code', code));
    } else if (label !== undefined) {
      fragment.append(link(label, href) ?? whole);
    } else if (strong1 !== undefined || strong2 !== undefined) {
      const strong = document.createElement('strong');
      strong.append(inline(strong1 ?? strong2));
      fragment.append(strong);
    } else {
      const em = document.createElement('em');
      em.append(inline(em1 ?? em2));
      fragment.append(em);
    }
    rest = rest.slice(match.index + whole.length);
  }
  return fragment;
}

function element(tag, text) {
  const node = document.createElement(tag);
  node.textContent = text;
  return node;
}

/** A link only for an absolute http or https address; anything else (javascript:, data:, relative) stays text. */
function link(label, href) {
  let url;
  try { url = new URL(href); } catch { return null; }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const a = document.createElement('a');
  a.href = url.href;
  a.rel = 'noopener noreferrer';
  a.target = '_blank';
  a.textContent = label;
  return a;
}
