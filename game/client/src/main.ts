/**
 * Bootstrap of the browser client: the only module that reads the real clock
 * and starts timers. Routes between the lobby (`#/`) and a match (`#/r/CODE`),
 * and hands everything else the clock as a function.
 */
import { netSimFromQuery } from '../../../netcode/netsim.ts';
import { createSession, socketUrl } from './api.ts';
import { Game } from './game.ts';
import { loadSession, saveSession, type StoredSession } from './identity.ts';
import { Lobby } from './lobby.ts';
import { parseRoute, roomHash, shareLink } from './route.ts';
import { instanceEndpoint, instanceFromQuery } from './target.ts';

const clock = () => performance.now();
const sim = netSimFromQuery(location.search);
const pinned = instanceFromQuery(location.search);
let game: Game | null = null;

const lobby = new Lobby({
  onRoute: (code) => {
    const hash = code ? roomHash(code) : '';
    if (location.hash !== hash) history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
  },
  onJoin: (code, session, target) => startGame(code, session, target),
});

/**
 * `target`: the WebSocket endpoint of the instance that holds the room, when the
 * server said (a room just created or not yet opened). A `?instance=` pin wins:
 * whoever asks for one instance means to go through it (it redirects if need be).
 */
function startGame(code: string, session: StoredSession, target: string | null = null): void {
  lobby.close();
  game?.destroy();
  let token = session.token;
  game = new Game({
    code,
    name: session.name,
    url: (to) => socketUrl(location, code, token, to),
    target: pinned ? instanceEndpoint(location, pinned) : target,
    shareLink: shareLink(location, code),
    sim,
    clock,
    random: Math.random,
    renew: async () => {
      const s = await createSession(session.name).catch(() => null);
      if (!s) return;
      token = s.token;
      saveSession({ token: s.token, name: s.name, room: code });
    },
    onEnd: (reason) => {
      game = null;
      lobby.open(parseRoute(location.hash), { text: reason });
    },
  });
}

/** Shows what the URL asks for; a reload of a room this tab was in resumes its seat at once. */
function route(): void {
  const r = parseRoute(location.hash);
  const stored = loadSession();
  if (game && r.kind === 'room' && game.match.session.net.room === r.code) return;
  if (r.kind === 'room' && stored?.room === r.code) {
    startGame(r.code, stored);
    return;
  }
  game?.destroy();
  game = null;
  lobby.open(r);
}

window.addEventListener('hashchange', route);
route();

// Slow timers: the room list while the lobby shows; the socket's upkeep while no frames are drawn.
setInterval(() => void lobby.refresh(), 3000);
setInterval(() => game?.idle(clock()), 250);
