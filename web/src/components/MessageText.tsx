import type { ComponentChildren } from 'preact';
import { parseMessage, type Segment } from '../markdown';
import { displayName, roles } from '../store';

/**
 * Renders message content from parsed segments as DOM nodes. Text goes in
 * as text nodes, so markup in a message shows as the characters typed.
 */
export function MessageText({ content, guildId }: { content: string; guildId: string | null }) {
  return <>{render(parseMessage(content), guildId)}</>;
}

function render(segments: Segment[], guildId: string | null): ComponentChildren[] {
  return segments.map((s, i) => {
    switch (s.kind) {
      case 'text':
        return s.text;
      case 'bold':
        return <strong key={i}>{render(s.children, guildId)}</strong>;
      case 'italic':
        return <em key={i}>{render(s.children, guildId)}</em>;
      case 'code':
        return <code key={i}>{s.text}</code>;
      case 'codeblock':
        return (
          <pre key={i}>
            <code>{s.text}</code>
          </pre>
        );
      case 'link':
        return (
          <a key={i} href={s.href} target="_blank" rel="noopener noreferrer">
            {render(s.children, guildId)}
          </a>
        );
      case 'user_mention':
        return (
          <span key={i} class="mention">
            @{displayName(s.id, guildId)}
          </span>
        );
      case 'role_mention': {
        const role = guildId ? roles.value[guildId]?.find((r) => r.id === s.id) : undefined;
        return (
          <span key={i} class="mention">
            @{role?.name ?? 'unknown role'}
          </span>
        );
      }
      case 'everyone':
        return (
          <span key={i} class="mention">
            @everyone
          </span>
        );
    }
  });
}
