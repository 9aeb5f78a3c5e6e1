import { describe, expect, it } from 'vitest';
import { parseMessage, safeHref } from '../src/markdown';

describe('safeHref', () => {
  it.each([
    ['https://example.com/a?b=c', 'https://example.com/a?b=c'],
    ['http://example.com', 'http://example.com/'],
    ['mailto:someone@example.com', 'mailto:someone@example.com'],
    ['javascript:alert(1)', null],
    ['JaVaScRiPt:alert(1)', null],
    [' javascript:alert(1)', null],
    ['data:text/html,<script>alert(1)</script>', null],
    ['vbscript:msgbox', null],
    ['/relative', null],
  ])('%s', (input, expected) => {
    expect(safeHref(input)).toBe(expected);
  });
});

describe('parseMessage', () => {
  it('keeps HTML as text', () => {
    expect(parseMessage('<img src=x onerror=alert(1)>')).toEqual([{ kind: 'text', text: '<img src=x onerror=alert(1)>' }]);
  });

  it('leaves a javascript: link as text', () => {
    const out = parseMessage('[click](javascript:alert(1))');
    expect(out.every((s) => s.kind === 'text')).toBe(true);
  });

  it('makes links of http, https and mailto only', () => {
    const out = parseMessage('see https://example.com/x. and [mail](mailto:a@b.example)');
    expect(out).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', href: 'https://example.com/x', children: [{ kind: 'text', text: 'https://example.com/x' }] },
      { kind: 'text', text: '. and ' },
      { kind: 'link', href: 'mailto:a@b.example', children: [{ kind: 'text', text: 'mail' }] },
    ]);
  });

  it('parses bold, italic, code and code blocks', () => {
    expect(parseMessage('**b** *i* _j_ `c *not italic*`')).toEqual([
      { kind: 'bold', children: [{ kind: 'text', text: 'b' }] },
      { kind: 'text', text: ' ' },
      { kind: 'italic', children: [{ kind: 'text', text: 'i' }] },
      { kind: 'text', text: ' ' },
      { kind: 'italic', children: [{ kind: 'text', text: 'j' }] },
      { kind: 'text', text: ' ' },
      { kind: 'code', text: 'c *not italic*' },
    ]);
    expect(parseMessage('```js\nlet a = "<b>";\n```')).toEqual([{ kind: 'codeblock', text: 'let a = "<b>";\n' }]);
  });

  it('finds mentions', () => {
    expect(parseMessage('hi <@u-1> and <@&r-2> @everyone, mail@everyone.example')).toEqual([
      { kind: 'text', text: 'hi ' },
      { kind: 'user_mention', id: 'u-1' },
      { kind: 'text', text: ' and ' },
      { kind: 'role_mention', id: 'r-2' },
      { kind: 'text', text: ' ' },
      { kind: 'everyone' },
      { kind: 'text', text: ', mail@everyone.example' },
    ]);
  });

  it('leaves snake_case words alone', () => {
    expect(parseMessage('a snake_case_name here')).toEqual([{ kind: 'text', text: 'a snake_case_name here' }]);
  });
});
