/**
 * Bootstrap of the browser client: the only module that reads the real clock
 * and starts timers. Routes between the lobby (`#/`), a match (`#/r/CODE`),
 * watching one as a spectator (`#/r/CODE/watch`) and the replay viewer
 * (`#/replay/ID`), and hands everything else the clock as a function. At most
 * one of the three screens is up at a time.
 */
import { netSimFromQuery } from '../../../netcode/netsim.ts';
import { createSession, socketUrl } from './api.ts';
import { Game } from './game.ts';
import { loadName, loadSession, saveSession, type StoredSession } from './identity.ts';
import { Lobby } from './lobby.ts';
import { ReplayViewer } from './replay.ts';
import { parseRoute, roomHash, shareLink } from './route.ts';
import { instanceEndpoint, instanceFromQuery } from './target.ts';
import { transportFromQuery } from './transport.ts';

const clock = () => performance.now();
const sim = netSimFromQuery(location.search);
const pinned = instanceFromQuery(location.search);
const transport = transportFromQuery(location.search) ?? undefined;
let game: Game | null = null;
/** The room the game shows, and whether as a spectator. */
let showing: { code: string; spectate: boolean } | null = null;
let viewer: ReplayViewer | null = null;
/** Bumped by every route: a spectator's session that arrives after the route moved on is dropped. */
let generation = 0;

const lobby = new Lobby({
  onRoute: (code) => {
    const hash = code ? roomHash(code) : '';
    if (location.hash !== hash) history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
  },
  onJoin: (code, session, target) => startGame(code, session, target),
  now: () => Date.now(),
});

/** Takes down whatever screen is up (the lobby is only hidden: it is reused). */
function clear(): void {
  lobby.close();
  game?.destroy();
  game = null;
  showing = null;
  viewer?.close();
  viewer = null;
}

/**
 * `target`: the WebSocket endpoint of the instance that holds the room, when the
 * server said (a room just created or not yet opened). A `?instance=` pin wins:
 * whoever asks for one instance means to go through it (it redirects if need be).
 * A spectator's session is its own, never stored as this tab's seat.
 */
function startGame(code: string, session: StoredSession, target: string | null = null, spectate = false): void {
  clear();
  let token = session.token;
  showing = { code, spectate };
  game = new Game({
    code,
    name: session.name,
    url: (to) => socketUrl(location, code, token, to, spectate),
    target: pinned ? instanceEndpoint(location, pinned) : target,
    shareLink: shareLink(location, code),
    sim,
    clock,
    random: Math.random,
    spectate,
    transport,
    renew: async () => {
      const s = await createSession(session.name).catch(() => null);
      if (!s) return;
      token = s.token;
      if (!spectate) saveSession({ token: s.token, name: s.name, room: code });
    },
    onEnd: (reason) => {
      game = null;
      showing = null;
      // A watcher lands on the room's own link: the lobby offers to join it; Watch is a new hash again.
      if (spectate) history.replaceState(null, '', `${location.pathname}${location.search}${roomHash(code)}`);
      lobby.open(parseRoute(location.hash), { text: reason });
    },
  });
}

/** Watches room `code`: a fresh guest session (the stored name, else "spectator"), then a spectating Game. */
async function watch(code: string, gen: number): Promise<void> {
  const s = await createSession(loadName() || 'spectator').catch((err: Error) => err);
  if (gen !== generation) return;
  if (s instanceof Error) {
    clear();
    lobby.open({ kind: 'room', code }, { text: `Cannot watch room ${code}: ${s.message}` });
    return;
  }
  startGame(code, { token: s.token, name: s.name }, null, true);
}

/** Shows what the URL asks for; a reload of a room this tab was in resumes its seat at once. */
function route(): void {
  const gen = ++generation;
  const r = parseRoute(location.hash);
  if (r.kind === 'replay') {
    clear();
    viewer = new ReplayViewer({ id: r.id, clock });
    return;
  }
  if (r.kind === 'watch') {
    if (game && showing?.code === r.code && showing.spectate) return;
    void watch(r.code, gen);
    return;
  }
  const stored = loadSession();
  if (game && r.kind === 'room' && showing?.code === r.code && !showing.spectate) return;
  if (r.kind === 'room' && stored?.room === r.code) {
    startGame(r.code, stored);
    return;
  }
  clear();
  lobby.open(r);
}

window.addEventListener('hashchange', route);
route();

// Slow timers: the room list while the lobby shows; the socket's upkeep while no frames are drawn.
setInterval(() => void lobby.refresh(), 3000);
setInterval(() => game?.idle(clock()), 250);
