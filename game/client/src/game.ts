/**
 * A running match on screen: builds the Match (netcode), the Phaser scene and
 * the DOM overlays (HUD, chat, status pill, netgraph, touch controls), wires
 * them together, and tears them all down when the match ends.
 *
 * Watching (`spectate`): no seat, so no input controls, touch sticks or chat box
 * (the chat is shown read-only); a banner with the watcher count, a Join button and
 * the camera choice (watch.ts) instead, and the camera is the spectator's.
 */
import type Phaser from 'phaser';
import type { NetSimOptions } from '../../../netcode/netsim.ts';
import { diagnoseRefusal } from './diagnose.ts';
import { ChatPanel } from './chat.ts';
import { Controls } from './controls.ts';
import { type DebugHooks, exposeDebug } from './debug.ts';
import { byId, cssColor } from './dom.ts';
import { matchFigures } from './figures.ts';
import { Hud } from './hud.ts';
import { Match } from './match.ts';
import { NetGraph } from './netgraph.ts';
import { playerColor } from './palette.ts';
import { roomHash } from './route.ts';
import { type ArenaScene, screenDensity, startPhaser } from './scene.ts';
import { StatusPill } from './status.ts';
import { TouchControls } from './touch.ts';
import type { Transport } from './transport.ts';
import { WatchMode } from './watch.ts';
import type { WebSocketLike } from '../../../netcode/socket.ts';

export interface GameOptions {
  code: string;
  name: string;
  /** The socket URL of the next attempt, at `target` (an instance's endpoint) or, when null, the page's /ws. */
  url: (target: string | null) => string;
  /** Where the first attempt goes (the owner of a room just created), or null. */
  target?: string | null;
  shareLink: string;
  sim: NetSimOptions | null;
  clock: () => number;
  random: () => number;
  /** A new session token for the same name (the server no longer accepts ours). */
  renew: () => Promise<void>;
  /** The match is over for good (the reason is shown in the lobby). */
  onEnd: (reason: string) => void;
  /** Watch the room without a seat (the URL must carry `&spectate=1`: api.ts `socketUrl`). */
  spectate?: boolean;
  /** 'sse' forces Server-Sent Events (`?transport=sse`); by default the WebSocket, falling back to SSE by itself. */
  transport?: Transport;
}

export class Game {
  readonly match: Match;
  private readonly phaser: Phaser.Game;
  private readonly stopPhaser: () => void;
  private readonly controls: Controls;
  /** The pill's states in turn (window.tickwire.stateLog): what the player saw. */
  private readonly stateLog: string[] = [];

  private logState(state: string): void {
    if (this.stateLog[this.stateLog.length - 1] !== state) this.stateLog.push(state);
  }
  private ws: WebSocketLike | null = null;
  private destroyed = false;
  private readonly onOnline: () => void;
  private readonly hud: Hud;
  private readonly status: StatusPill;
  private readonly netgraph: NetGraph;
  private readonly chat: ChatPanel;
  private readonly touch: TouchControls;
  private readonly watch: WatchMode | null = null;

  constructor(opts: GameOptions) {
    const hud = new Hud();
    this.hud = hud;
    const status = new StatusPill(() => this.match.session.connect(opts.clock()));
    this.status = status;
    // The browser says the network is back: do not wait for the next backoff step.
    this.onOnline = () => {
      const s = this.match.session;
      if (s.state === 'offline' || s.state === 'reconnecting') s.connect(opts.clock());
    };
    window.addEventListener('online', this.onOnline);
    const netgraph = new NetGraph();
    this.netgraph = netgraph;
    let chat: ChatPanel | null = null;
    hud.setRoom(opts.code, opts.shareLink);
    const watching = opts.spectate === true;
    this.match = new Match({
      code: opts.code, url: opts.url, target: opts.target, sim: opts.sim, clock: opts.clock, random: opts.random,
      spectate: watching, transport: opts.transport,
      onSocket: (ws) => { this.ws = ws; },
      onConnection: (conn) => {
        this.logState(conn.state);
        status.show(conn);
      },
      // A spectator does not take a seat: a room full of players still admits it (so no "room is full" ending).
      diagnose: (failures) => diagnoseRefusal(opts.code, this.match.session.everWelcomed || watching, failures),
      renew: opts.renew,
      onEnd: (reason) => {
        this.destroy();
        opts.onEnd(reason);
      },
      sink: {
        chat: (from, name, text) => chat?.say(name, text, from === this.match.me ? '#ffd33d' : cssColor(playerColor(from))),
        notice: (text) => chat?.notice(text),
        announce: (text) => chat?.announce(text),
        kill: (killer, victim, now) => hud.killed(killer, victim, now),
        feed: (text, now) => hud.note(text, now),
        roundStarted: (round, now) => hud.roundStarted(round, now),
      },
    });
    chat = new ChatPanel(
      (text) => this.match.session.send(this.match.session.net.chat(text), opts.clock()),
      (typing) => { if (typing) this.controls.release(); },
      watching ? { readOnly: 'Spectators cannot chat' } : {},
    );
    this.chat = chat;
    const controls = new Controls(byId('game'), {
      toggleNetgraph: () => netgraph.toggle(),
      focusChat: () => chat?.focus(),
    }, { watch: watching });
    this.controls = controls;
    const touch = new TouchControls({ enabled: !watching });
    this.touch = touch;
    let scene: ArenaScene | null = null; // set once Phaser is started; read only from its frames
    const density = screenDensity();
    const watch = watching ? new WatchMode({
      code: opts.code, controls,
      toWorld: (x, y) => {
        const p = scene?.cameras.main.getWorldPoint(x * density, y * density);
        return p ? { x: p.x, y: p.y } : null;
      },
      view: () => scene ? { centre: scene.centre, scale: scene.cameras.main.zoom / density } : null,
      join: () => { location.hash = roomHash(opts.code); },
    }) : null;
    this.watch = watch;
    const match = this.match;
    const hooks: DebugHooks = {
      dropSocket: () => {
        if (!this.ws) return false;
        this.ws.close(4999, 'test: connection dropped');
        return true;
      },
      toggleNetgraph: () => netgraph.toggle(),
      screenOf: () => null,
      aim: () => null,
    };
    exposeDebug(match, opts.clock, this.stateLog, () => opts.name, hooks);
    const afterFrame = (now: number) => {
      const conn = match.connection; // a WELCOME or a MOVE changes it between socket events
      this.logState(conn.state);
      status.show(conn, match.session.live ? `${Math.round(match.session.clock.rtt)} ms` : '');
      const world = match.lastOut?.world;
      const ownHp = world?.players.find((p) => p.id === match.me)?.hp;
      // Scores and roster only change when a message arrives (welcome, snapshot): its bytes stamp the board.
      const net = match.session.net;
      hud.update(now, world?.round ?? null, match.scores, match.me, net.roster, ownHp === 0,
        // Scores and roster change only when a snapshot is applied or a welcome arrives.
        net.serverTick * 64 + net.roster.size);
      hud.setWatchers(watch ? 0 : net.watchers); // a spectator's banner says it
      watch?.update(net.watchers, net.roster);
      netgraph.update(now, () => matchFigures(match, now));
    };
    const started = startPhaser({ match, controls, touch, clock: opts.clock, name: (id) => match.events.name(id),
      connected: (id) => match.session.net.roster.get(id)?.connected ?? true, afterFrame,
      camera: watch ? () => watch.look(opts.clock(), match.lastOut?.world ?? null) : undefined,
    });
    scene = started.scene;
    this.phaser = started.game;
    this.stopPhaser = started.stop;
    hooks.screenOf = (x, y) => started.scene.screenOf(x, y);
    hooks.aim = () => started.scene.lastAim;
    match.start(opts.clock());
  }

  /** Called from a slow timer: keeps the connection serviced while no frames are drawn. */
  idle(now: number): void {
    if (!this.destroyed) this.match.idle(now);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.match.close();
    window.removeEventListener('online', this.onOnline);
    this.controls.destroy();
    // The overlays' elements belong to index.html and are reused by the next match: let go of them.
    this.chat.destroy();
    this.status.destroy();
    this.touch.destroy();
    this.watch?.destroy();
    this.netgraph.destroy();
    this.hud.destroy();
    this.stopPhaser();
    this.phaser.destroy(true);
  }
}
