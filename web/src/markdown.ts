// A small, safe subset of Markdown for message text. It returns a tree of
// plain segments that components turn into DOM nodes. Nothing here is
// ever parsed as HTML, so markup in a message stays text.

export type Segment =
  | { kind: 'text'; text: string }
  | { kind: 'bold' | 'italic'; children: Segment[] }
  | { kind: 'code'; text: string }
  | { kind: 'codeblock'; text: string }
  | { kind: 'link'; href: string; children: Segment[] }
  | { kind: 'user_mention' | 'role_mention'; id: string }
  | { kind: 'everyone' };

const ALLOWED_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/** Returns the normalized URL when it is http, https or mailto, else null. */
export function safeHref(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  return ALLOWED_PROTOCOLS.has(url.protocol) ? url.href : null;
}

/** Parses message content into segments, code blocks first. */
export function parseMessage(content: string): Segment[] {
  const out: Segment[] = [];
  const fence = /```(?:[a-z0-9_+-]*\n)?([\s\S]*?)```/g;
  let last = 0;
  for (let m = fence.exec(content); m; m = fence.exec(content)) {
    if (m.index > last) out.push(...parseInline(content.slice(last, m.index)));
    out.push({ kind: 'codeblock', text: m[1] });
    last = m.index + m[0].length;
  }
  if (last < content.length) out.push(...parseInline(content.slice(last)));
  return out;
}

// One alternative per inline form; the first that matches at a position
// wins, so code spans hide the marks inside them.
const INLINE = new RegExp(
  [
    '`([^`\\n]+)`', // 1 code span
    '\\*\\*([^\\n]+?)\\*\\*', // 2 bold
    '(?<![\\w*])\\*([^\\s*][^*\\n]*?)\\*(?![\\w*])', // 3 italic with *
    '(?<!\\w)_([^\\s_][^_\\n]*?)_(?!\\w)', // 4 italic with _
    '<@([A-Za-z0-9-]{1,64})>', // 5 user mention
    '<@&([A-Za-z0-9-]{1,64})>', // 6 role mention
    '(?<![\\w@.])@everyone(?![\\w])', // everyone
    '\\[([^\\]\\n]{1,200})\\]\\(([^)\\s]{1,2000})\\)', // 7 label, 8 target of a labelled link
    '((?:https?://|mailto:)[^\\s<>]+)', // 9 bare link
  ].join('|'),
  'g',
);

export function parseInline(text: string): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  const push = (t: string) => {
    if (!t) return;
    const prev = out[out.length - 1];
    if (prev?.kind === 'text') prev.text += t;
    else out.push({ kind: 'text', text: t });
  };
  INLINE.lastIndex = 0;
  const matches = [...text.matchAll(INLINE)];
  for (const m of matches) {
    const index = m.index ?? 0;
    push(text.slice(last, index));
    last = index + m[0].length;
    if (m[1] !== undefined) out.push({ kind: 'code', text: m[1] });
    else if (m[2] !== undefined) out.push({ kind: 'bold', children: parseInline(m[2]) });
    else if (m[3] !== undefined) out.push({ kind: 'italic', children: parseInline(m[3]) });
    else if (m[4] !== undefined) out.push({ kind: 'italic', children: parseInline(m[4]) });
    else if (m[5] !== undefined) out.push({ kind: 'user_mention', id: m[5] });
    else if (m[6] !== undefined) out.push({ kind: 'role_mention', id: m[6] });
    else if (m[7] !== undefined) {
      const href = safeHref(m[8]);
      if (href) out.push({ kind: 'link', href, children: parseInline(m[7]) });
      else push(m[0]);
    } else if (m[9] !== undefined) {
      // Sentence punctuation right after a URL belongs to the sentence.
      const trailing = /[).,;:!?'"]+$/.exec(m[9])?.[0] ?? '';
      const raw = m[9].slice(0, m[9].length - trailing.length);
      const href = safeHref(raw);
      if (href) out.push({ kind: 'link', href, children: [{ kind: 'text', text: raw }] });
      else push(raw);
      push(trailing);
    } else out.push({ kind: 'everyone' });
  }
  push(text.slice(last));
  return out;
}
