// WebSocket connection to the homeserver's gateway: identify or resume in
// the first frame (never a token in the URL), heartbeats, and reconnects
// with exponential backoff and jitter.

import type { Clock } from './auth';
import { browserClock } from './auth';
import type { Dispatch, Ready, UserUpdateDispatch } from './types';

export type GatewayState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface GatewayHandlers {
  ready(ready: Ready): void;
  dispatch(frame: Dispatch | UserUpdateDispatch): void;
  resumed(): void;
  resyncRequired(logIds: string[]): void;
  typing(d: { channel_id: string; user_id: string; expires_at: string }): void;
  presence(d: { user_id: string; status: string }): void;
  state(state: GatewayState): void;
  /** Called on close 4004: resolve true once a fresh token is available. */
  refreshToken(): Promise<boolean>;
  /** Called on close 4011 or a failed refresh: the login session is over. */
  sessionEnded(): void;
}

export interface GatewayOptions {
  url: string;
  token(): string | null;
  /** Log positions to resume from, or null to identify afresh. */
  resumePositions(): Record<string, number> | null;
  handlers: GatewayHandlers;
  clock?: Clock;
  random?: () => number;
  createSocket?: (url: string) => WebSocket;
}

export const BACKOFF_FIRST_MS = 1000;
export const BACKOFF_MAX_MS = 60_000;
/** A connection that stayed up this long resets the backoff. */
const STABLE_MS = 30_000;

/** Returns the wait before reconnect attempt number attempt (from 0). */
export function backoffDelay(attempt: number, random: () => number): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
  return Math.round(base / 2 + (random() * base) / 2);
}

export class Gateway {
  private socket: WebSocket | null = null;
  private heartbeatTimer: unknown = null;
  private reconnectTimer: unknown = null;
  private awaitingAck = false;
  private attempt = 0;
  private connectedAt = 0;
  private stopped = false;
  private stateValue: GatewayState = 'closed';
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(private readonly opts: GatewayOptions) {
    this.clock = opts.clock ?? browserClock;
    this.random = opts.random ?? Math.random;
  }

  get state(): GatewayState {
    return this.stateValue;
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  /** Closes the connection for good, as on logout. */
  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.reconnectTimer);
    this.stopHeartbeat();
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, 'client closed');
    this.setState('closed');
  }

  /** Drops the connection and resumes on a new one right away. */
  reconnectNow(): void {
    if (this.stopped) return;
    this.attempt = 0;
    this.drop();
    this.clock.clearTimeout(this.reconnectTimer);
    this.open();
  }

  send(op: string, d: unknown): boolean {
    if (this.socket?.readyState !== 1 || this.stateValue !== 'connected') return false;
    this.socket.send(JSON.stringify({ op, d }));
    return true;
  }

  private open(): void {
    this.setState(this.attempt === 0 && this.stateValue !== 'reconnecting' ? 'connecting' : 'reconnecting');
    const socket = (this.opts.createSocket ?? ((u) => new WebSocket(u)))(this.opts.url);
    this.socket = socket;
    socket.onmessage = (ev) => {
      if (this.socket === socket) this.onFrame(String(ev.data));
    };
    socket.onclose = (ev) => {
      if (this.socket === socket) this.onClose(ev.code);
    };
    socket.onerror = () => {
      // A close event follows every error, and onClose handles the reconnect.
    };
  }

  private onFrame(raw: string): void {
    let frame: any;
    try {
      frame = JSON.parse(raw);
    } catch {
      return;
    }
    const h = this.opts.handlers;
    switch (frame.op) {
      case 'hello':
        this.authenticate(frame.d?.heartbeat_interval_ms ?? 30_000);
        break;
      case 'ready':
        this.markConnected();
        h.ready(frame.d as Ready);
        break;
      case 'resumed':
        this.markConnected();
        h.resumed();
        break;
      case 'dispatch':
        h.dispatch(frame as Dispatch | UserUpdateDispatch);
        break;
      case 'heartbeat_ack':
        this.awaitingAck = false;
        break;
      case 'resync_required':
        h.resyncRequired(frame.d?.channel_ids ?? []);
        break;
      case 'typing':
        h.typing(frame.d);
        break;
      case 'presence':
        h.presence(frame.d);
        break;
      case 'reconnect':
        // The server is going away and closes with 1001 next.
        break;
    }
  }

  private authenticate(intervalMs: number): void {
    const token = this.opts.token();
    if (!token) {
      this.stop();
      this.opts.handlers.sessionEnded();
      return;
    }
    const positions = this.opts.resumePositions();
    const frame = positions
      ? { op: 'resume', d: { token, last_seq: positions } }
      : { op: 'identify', d: { token } };
    this.socket?.send(JSON.stringify(frame));
    this.startHeartbeat(intervalMs);
  }

  private markConnected(): void {
    this.connectedAt = this.clock.now();
    this.setState('connected');
  }

  private startHeartbeat(intervalMs: number): void {
    this.stopHeartbeat();
    this.awaitingAck = false;
    const beat = () => {
      if (this.awaitingAck) {
        // No acknowledgement within an interval: the connection is dead
        // even if the socket has not noticed.
        this.drop();
        this.onClose(4009);
        return;
      }
      if (this.stateValue === 'connected') {
        this.awaitingAck = true;
        this.socket?.send(JSON.stringify({ op: 'heartbeat', d: {} }));
      }
      this.heartbeatTimer = this.clock.setTimeout(beat, intervalMs);
    };
    this.heartbeatTimer = this.clock.setTimeout(beat, intervalMs);
  }

  private stopHeartbeat(): void {
    this.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private drop(): void {
    this.stopHeartbeat();
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= 1) socket.close(4000, 'reconnecting');
  }

  private async onClose(code: number): Promise<void> {
    this.stopHeartbeat();
    this.socket = null;
    if (this.stopped) return;
    if (this.connectedAt && this.clock.now() - this.connectedAt > STABLE_MS) this.attempt = 0;
    this.connectedAt = 0;
    this.setState('reconnecting');

    if (code === 4011) {
      this.stop();
      this.opts.handlers.sessionEnded();
      return;
    }
    if (code === 4004 && !(await this.opts.handlers.refreshToken())) {
      this.stop();
      this.opts.handlers.sessionEnded();
      return;
    }
    let delay = backoffDelay(this.attempt, this.random);
    if (code === 4008) delay = Math.max(delay, 5000);
    this.attempt += 1;
    this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = this.clock.setTimeout(() => {
      if (!this.stopped) this.open();
    }, delay);
  }

  private setState(state: GatewayState): void {
    if (state === this.stateValue) return;
    this.stateValue = state;
    this.opts.handlers.state(state);
  }
}

/** Returns the gateway URL of the page's own origin. */
export function gatewayUrl(location: Location): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/api/v1/gateway`;
}
