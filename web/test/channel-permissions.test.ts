import { h, render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Overwrites } from '../src/components/ChannelPermissions';
import { channels, roles } from '../src/store';
import type { Overwrite } from '../src/types';
import { type Call, CREATED, json, recordFetch, settle } from './fixtures';

const VIEW_DENIED: Overwrite = { target_id: 'g1', type: 'role', allow: '0', deny: '1' };

let root: HTMLElement;
let calls: Call[];

/** Returns the setting shown for a permission of the @everyone role. */
const setting = (label: string) => root.querySelector<HTMLSelectElement>(`select[aria-label="${label} for this role"]`)!;
const button = (text: string) => [...root.querySelectorAll('button')].find((b) => b.textContent === text)!;

async function click(text: string): Promise<void> {
  await act(async () => {
    button(text).click();
    await settle();
  });
}

beforeEach(async () => {
  channels.value = {
    c1: { id: 'c1', guild_id: 'g1', kind: 'text', name: 'general', topic: '', parent_id: null, position: 0, last_seq: 0, created_at: CREATED },
  };
  roles.value = { g1: [{ id: 'g1', guild_id: 'g1', name: '@everyone', permissions: '3', position: 0, managed: false }] };
  calls = recordFetch((method) => (method === 'GET' ? json([VIEW_DENIED]) : new Response(null, { status: 204 })));
  root = document.createElement('div');
  document.body.append(root);
  await act(async () => {
    render(h(Overwrites, { guildId: 'g1' }), root);
    await settle();
  });
});

afterEach(() => {
  render(null, root);
  root.remove();
  vi.unstubAllGlobals();
});

describe('overwrite editor', () => {
  it('shows the loaded overwrite', () => {
    expect(setting('View channels').value).toBe('deny');
    expect(setting('Send messages').value).toBe('inherit');
  });

  it('shows Inherit everywhere after a removal', async () => {
    await click('Remove overwrite');
    expect(calls.map((c) => `${c.method} ${c.path}`)).toContain('DELETE /api/v1/channels/c1/permissions/g1');
    expect(setting('View channels').value).toBe('inherit');
    expect(button('Remove overwrite').disabled).toBe(true);
  });

  it('saves nothing of a removed overwrite', async () => {
    await click('Remove overwrite');
    await click('Save overwrite');
    const put = calls.find((c) => c.method === 'PUT');
    expect(put?.body).toEqual({ type: 'role', allow: '0', deny: '0' });
  });

  it('shows what was saved', async () => {
    await act(async () => {
      const send = setting('Send messages');
      send.value = 'allow';
      send.dispatchEvent(new Event('change', { bubbles: true }));
      await settle();
    });
    await click('Save overwrite');
    const put = calls.find((c) => c.method === 'PUT');
    expect(put?.body).toEqual({ type: 'role', allow: '2', deny: '1' });
    expect(setting('Send messages').value).toBe('allow');
    expect(setting('View channels').value).toBe('deny');
  });
});
