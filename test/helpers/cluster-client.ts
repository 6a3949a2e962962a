/**
 * A player for the cluster tests, built like the browser's session: the shared
 * ReconnectingSocket (backoff, CLOSE_REDIRECT) over a `ws` socket, the shared
 * NetClient, and the browser's rule for the redirect target (follow a REDIRECT at
 * once; forget the target when an attempt to it fails without opening). It sends one
 * input per snapshot it applies, so its room ticks as in play, and records what
 * happened (welcomes, redirects, close codes, events) for the test to assert on.
 */
import WebSocket from 'ws';
import { ARENA_SCHEMA, T_PLAYER, T_ROUND } from '../../game/sim/netschema.ts';
import { type ClientEvent, NetClient } from '../../netcode/client.ts';
import { decodeServer } from '../../netcode/codec.ts';
import { type Frame, frameEntity } from '../../netcode/frame.ts';
import { S_SNAPSHOT, type WireEvent } from '../../netcode/protocol.ts';
import { ReconnectingSocket, type SocketState, type WebSocketLike } from '../../netcode/socket.ts';
import { Waits } from './waits.ts';

/** What a frame says of the game: its tick, the round and each player's score (frames may be recycled: this is a copy). */
export interface GameSummary {
  tick: number;
  round: { number: number; time: number };
  players: Map<number, { score: number; kills: number; deaths: number }>;
}

export function summarize(frame: Frame): GameSummary {
  const out: GameSummary = { tick: frame.tick, round: { number: 0, time: 0 }, players: new Map() };
  for (let i = 0; i < frame.count; i++) {
    const e = frameEntity(ARENA_SCHEMA, frame, i);
    if (e.type === T_ROUND) out.round = { number: e.obj.number, time: e.obj.time };
    else if (e.type === T_PLAYER) out.players.set(e.id, { score: e.obj.score, kills: e.obj.kills, deaths: e.obj.deaths });
  }
  return out;
}

export interface Welcome {
  instance: string;
  playerId: number;
  resumed: boolean;
  at: number;
}

export class ClusterClient extends Waits {
  readonly net = new NetClient(ARENA_SCHEMA);
  readonly socket: ReconnectingSocket;
  readonly welcomes: Welcome[] = [];
  readonly redirects: string[] = [];
  /** MOVEs followed (the room went to another instance with our seat): where, when, and the game as we last saw it. */
  readonly moves: { instance: string; at: number; last: GameSummary | null; lastAt: number }[] = [];
  /** The first snapshot after each WELCOME: its baseTick (0 = full), the game it shows, and when it came. */
  readonly firsts: { base: number; game: GameSummary; at: number }[] = [];
  /** The newest applied frame, and when it came. */
  private frame: Frame | null = null;
  private frameAt = 0;
  readonly events: WireEvent[] = [];
  readonly states: { state: SocketState; code?: number; reason?: string }[] = [];
  snapshots = 0;
  /** Snapshot ticks never received on one connection (gaps in the tick sequence). */
  missed = 0;
  private lastTick = 0;
  target: string | null = null;
  private last: SocketState = 'idle';
  private timer: NodeJS.Timeout;

  /** `endpoint`: the ws:// URL to join through (nginx's /ws, or one instance directly). */
  /** `socket`: extra `ws` options (a local address to connect from, headers). */
  constructor(readonly endpoint: string, readonly room: string, readonly token: string, readonly origin: string, socket: WebSocket.ClientOptions = {}) {
    super();
    this.socket = new ReconnectingSocket({
      url: () => `${this.target ?? this.endpoint}?room=${room}&token=${encodeURIComponent(token)}`,
      create: (url) => new WebSocket(url, { origin, ...socket }) as unknown as WebSocketLike,
      random: Math.random,
      openTimeout: 3000,
    });
    this.socket.onOpen = () => this.socket.send(this.net.hello());
    this.socket.onMessage = (bytes) => this.onMessage(bytes);
    this.socket.onState = (state, info) => {
      this.states.push({ state, code: info.code, reason: info.reason });
      if (state === 'reconnecting' && this.last === 'connecting') this.target = null; // that instance is not answering
      this.last = state;
      this.wake();
    };
    this.socket.connect(performance.now());
    this.timer = setInterval(() => this.socket.update(performance.now()), 20);
  }

  private onMessage(bytes: Uint8Array): void {
    const now = performance.now();
    const first = this.welcomes.length > this.firsts.length;
    const ev: ClientEvent = this.net.receive(bytes, now);
    switch (ev.kind) {
      case 'redirect':
        if (ev.moved) this.moves.push({ instance: ev.instance, at: now, last: this.frame && summarize(this.frame), lastAt: this.frameAt });
        else this.redirects.push(ev.instance);
        this.target = ev.url;
        this.socket.follow();
        break;
      case 'welcome':
        this.welcomes.push({ instance: ev.instance, playerId: ev.playerId, resumed: ev.resumed, at: performance.now() });
        break;
      case 'snapshot':
        if (!first && this.lastTick > 0 && ev.snap.tick > this.lastTick + 1) this.missed += ev.snap.tick - this.lastTick - 1;
        this.lastTick = ev.snap.tick;
        if (first) {
          const d = decodeServer(bytes);
          const base = d.ok && d.msg.type === S_SNAPSHOT ? d.msg.baseTick : -1;
          this.firsts.push({ base, game: summarize(ev.snap.frame), at: now });
        }
        this.frame = ev.snap.frame;
        this.frameAt = now;
        this.snapshots++;
        this.events.push(...ev.snap.events);
        this.socket.send(this.net.input({ buttons: 0, aim: 0 }, this.net.serverTick, performance.now()).bytes);
        break;
      case 'bad':
        if (ev.events) this.events.push(...ev.events);
        break;
      default:
        break;
    }
    this.wake();
  }

  get instance(): string {
    return this.welcomes.at(-1)?.instance ?? '';
  }

  get live(): boolean {
    return this.socket.state === 'open' && this.welcomes.length > 0 && this.net.playerId > 0;
  }

  close(): void {
    clearInterval(this.timer);
    this.socket.close();
  }
}

/** A guest token from `base` (any instance, or the front). */
export async function token(base: string, name: string): Promise<string> {
  const res = await fetch(`${base}/api/session`, { method: 'POST', body: JSON.stringify({ name }) });
  if (!res.ok) throw new Error(`POST ${base}/api/session: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** The session id inside a token (what the admin API kicks by). */
export const sidOf = (tok: string): string => (JSON.parse(Buffer.from(tok.split('.')[0], 'base64url').toString()) as { sid: string }).sid;
