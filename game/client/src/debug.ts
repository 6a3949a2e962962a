/**
 * window.tickwire: the netgraph's figures, the connection state and the players
 * as seen by this client, for the console and the browser tests. Getters are
 * computed when read, so exposing them costs nothing per frame.
 */
import { matchFigures } from './figures.ts';
import type { Match } from './match.ts';
import { round } from './metrics.ts';

export interface PlayerSeen {
  id: number;
  name: string;
  x: number;
  y: number;
  hp: number;
  score: number;
  connected: boolean;
  own: boolean;
}

export interface DebugHooks {
  /** Drops the current socket (WebSocket or SSE) as a network failure would (close code 4999): the client must reconnect. */
  dropSocket: () => boolean;
  toggleNetgraph: () => void;
  /** Where a world point is on screen (canvas CSS px), for tests that aim the real mouse. */
  screenOf: (x: number, y: number) => { x: number; y: number } | null;
  /** The aim of the last frame's intent (radians), or null. */
  aim: () => number | null;
}

export function exposeDebug(match: Match, clock: () => number, stateLog: string[], name: () => string, hooks: DebugHooks): object {
  const fig = () => matchFigures(match, clock());
  const api = {
    get state() { return match.connection.state; },
    get stateText() { return match.connection.text; },
    stateLog,
    get playerId() { return match.me; },
    /** Watching without a seat (playerId 0 once welcomed): no inputs, no prediction. */
    get spectator() { return match.spectator; },
    /** The room's spectators (WELCOME.watchers, then EV_WATCHERS). */
    get watchers() { return match.session.net.watchers; },
    /** The transport of the current connection: 'ws', or 'sse' (forced, or fallen back to). */
    get transport() { return match.session.link.transport; },
    get pendingInputs() { return match.session.net.pending.length; },
    get room() { return match.session.net.room; },
    /** The instance that welcomed us last ('' standalone or before the first WELCOME). */
    get instance() { return match.session.net.instance; },
    /** The endpoint the next attempt goes to (null: the page's /ws). */
    get target() { return match.session.target.url; },
    get redirects() { return match.session.target.redirects; },
    /** MOVEs followed: the room went to another instance with our seat (a drain). */
    get moves() { return match.session.moves; },
    /** WELCOMEs into a room that had started over (e.g. reopened on another instance). */
    get restarts() { return match.restarts; },
    get announcements() { return match.announcements; },
    get name() { return name(); },
    get tick() { return match.session.net.serverTick; },
    get aim() { return hooks.aim(); },
    get ping() { return round(fig().ping); },
    get jitter() { return round(fig().jitter); },
    get snapshotRate() { return round(fig().snapshotRate); },
    get kbpsIn() { return round(fig().kbpsIn); },
    get kbpsOut() { return round(fig().kbpsOut); },
    get interpDelay() { return round(fig().interpDelay); },
    get bufferMs() { return round(fig().bufferMs); },
    get corrections() { return round(fig().corrections); },
    get correctionMax() { return round(fig().correctionMax, 2); },
    get correctionP99() { return round(fig().correctionP99, 2); },
    get fps() { return round(fig().fps); },
    get frameWorkMs() { return round(fig().frameWorkMs, 3); },
    get frameWorkMsP95() { return round(fig().frameWorkMsP95, 3); },
    get desyncs() { return match.session.net.stats.desyncs; },
    get figures() { return fig(); },
    get score() { return match.scores.get(match.me)?.score ?? 0; },
    get npcs() { return match.lastOut?.world?.npcs.filter((n) => n.hp > 0).map((n) => ({ id: n.id, x: n.x, y: n.y })) ?? []; },
    get players(): PlayerSeen[] {
      const out = match.lastOut;
      const roster = match.session.net.roster;
      const seen: PlayerSeen[] = [];
      for (const p of out?.world?.players ?? []) {
        const own = p.id === out?.me;
        const at = own && out?.ownPos ? out.ownPos : p;
        seen.push({
          id: p.id, name: match.events.name(p.id), x: round(at.x, 2), y: round(at.y, 2), hp: p.hp,
          score: match.scores.get(p.id)?.score ?? p.score, connected: roster.get(p.id)?.connected ?? false, own,
        });
      }
      return seen;
    },
    debug: hooks,
  };
  (window as unknown as { tickwire: object }).tickwire = api;
  return api;
}
