import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, Gateway, type GatewayHandlers, type GatewayState } from '../src/gateway';

class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 1;
  sent: any[] = [];
  onmessage: ((ev: { data: string }) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = 3;
  }
  receive(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  serverClose(code: number) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

function handlers(over: Partial<GatewayHandlers> = {}) {
  const states: GatewayState[] = [];
  const h: GatewayHandlers = {
    ready: vi.fn(),
    dispatch: vi.fn(),
    resumed: vi.fn(),
    resyncRequired: vi.fn(),
    typing: vi.fn(),
    presence: vi.fn(),
    state: (s) => states.push(s),
    refreshToken: vi.fn(async () => true),
    sessionEnded: vi.fn(),
    ...over,
  };
  return { h, states };
}

describe('backoffDelay', () => {
  it('doubles up to a minute with jitter in the upper half', () => {
    expect(backoffDelay(0, () => 0)).toBe(500);
    expect(backoffDelay(0, () => 1)).toBe(1000);
    expect(backoffDelay(3, () => 1)).toBe(8000);
    expect(backoffDelay(20, () => 1)).toBe(60_000);
  });
});

describe('Gateway', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.all = [];
  });
  afterEach(() => vi.useRealTimers());

  function start(positions: () => Record<string, number> | null, over: Partial<GatewayHandlers> = {}) {
    const { h, states } = handlers(over);
    const gw = new Gateway({
      url: 'ws://127.0.0.1/api/v1/gateway',
      token: () => 'tok',
      resumePositions: positions,
      handlers: h,
      random: () => 1,
      createSocket: (url) => new FakeSocket(url) as unknown as WebSocket,
    });
    gw.start();
    return { gw, h, states };
  }

  it('identifies in the first frame and never puts the token in the URL', () => {
    const { h } = start(() => null);
    const s = FakeSocket.all[0];
    expect(s.url).not.toContain('tok');
    s.receive({ op: 'hello', d: { heartbeat_interval_ms: 1000, session_id: 'x' } });
    expect(s.sent[0]).toEqual({ op: 'identify', d: { token: 'tok' } });
    s.receive({ op: 'ready', d: { user: {}, guilds: [], dms: [] } });
    expect(h.ready).toHaveBeenCalled();
  });

  it('heartbeats at the interval and drops a connection without acks', async () => {
    const { states } = start(() => null);
    const s = FakeSocket.all[0];
    s.receive({ op: 'hello', d: { heartbeat_interval_ms: 1000 } });
    s.receive({ op: 'ready', d: {} });
    await vi.advanceTimersByTimeAsync(1000);
    expect(s.sent.at(-1)).toEqual({ op: 'heartbeat', d: {} });
    s.receive({ op: 'heartbeat_ack', d: {} });
    await vi.advanceTimersByTimeAsync(1000);
    expect(s.sent.filter((f) => f.op === 'heartbeat')).toHaveLength(2);
    // No ack for the second heartbeat: the next tick declares it dead.
    await vi.advanceTimersByTimeAsync(1000);
    expect(states.at(-1)).toBe('reconnecting');
  });

  it('reconnects with backoff and resumes from the tracked positions', async () => {
    let positions: Record<string, number> | null = null;
    const { h, states } = start(() => positions);
    const first = FakeSocket.all[0];
    first.receive({ op: 'hello', d: { heartbeat_interval_ms: 30_000 } });
    first.receive({ op: 'ready', d: {} });
    expect(states).toEqual(['connecting', 'connected']);

    positions = { c1: 12, g1: 3 };
    first.serverClose(1006);
    expect(states.at(-1)).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeSocket.all).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2);
    expect(FakeSocket.all).toHaveLength(2);

    // The second attempt fails too, and the wait doubles.
    FakeSocket.all[1].serverClose(1006);
    await vi.advanceTimersByTimeAsync(1999);
    expect(FakeSocket.all).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(2);
    const third = FakeSocket.all[2];
    third.receive({ op: 'hello', d: { heartbeat_interval_ms: 30_000 } });
    expect(third.sent[0]).toEqual({ op: 'resume', d: { token: 'tok', last_seq: { c1: 12, g1: 3 } } });
    third.receive({ op: 'dispatch', t: 'message_create', channel_id: 'c1', seq: 13, d: {} });
    third.receive({ op: 'resync_required', d: { channel_ids: ['c9'] } });
    third.receive({ op: 'resumed', d: {} });
    expect(h.dispatch).toHaveBeenCalledTimes(1);
    expect(h.resyncRequired).toHaveBeenCalledWith(['c9']);
    expect(h.resumed).toHaveBeenCalled();
    expect(states.at(-1)).toBe('connected');
  });

  it('ends the session on 4011 without reconnecting', async () => {
    const { h } = start(() => null);
    FakeSocket.all[0].serverClose(4011);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(h.sessionEnded).toHaveBeenCalled();
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('refreshes the token on 4004 before reconnecting', async () => {
    const refreshToken = vi.fn(async () => true);
    start(() => null, { refreshToken });
    FakeSocket.all[0].serverClose(4004);
    await vi.advanceTimersByTimeAsync(1001);
    expect(refreshToken).toHaveBeenCalled();
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('stays closed after stop', async () => {
    const { gw } = start(() => null);
    gw.stop();
    FakeSocket.all[0].serverClose(1006);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(FakeSocket.all).toHaveLength(1);
  });
});
