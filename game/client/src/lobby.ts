/**
 * The lobby: a DOM form over the (empty) canvas. Enter a name, then create a
 * room or join one from a share link or the list. It checks what it can before
 * the socket opens — the name (the server may refuse it), a full room, a room
 * that has gone — so the player gets a sentence instead of a failed connection.
 * Each open room can also be watched (`#/r/CODE/watch`), and the recent matches the
 * server recorded are listed with a link to their replay (`#/replay/ID`).
 */
import { type ApiError, createRoom, createSession, fetchLobby, findRoom, type LobbyInfo, listRooms, type RoomInfo } from './api.ts';
import { byId, el, show } from './dom.ts';
import { loadName, loadSession, saveName, saveSession, type StoredSession } from './identity.ts';
import { agoText, clockText, listReplays, playersText, type ReplayListing } from './replayfile.ts';
import { replayHash, type Route, watchHash } from './route.ts';

export interface LobbyOptions {
  /**
   * The player chose a room and holds a session: start the match. `target` is the
   * WebSocket endpoint of the instance that holds the room, when known (a room just created).
   */
  onJoin: (code: string, session: StoredSession, target: string | null) => void;
  /** The room the lobby is about (route change), so the URL can follow. */
  onRoute: (code: string | null) => void;
  /** Wall-clock ms since the epoch, for "5 min ago" (default Date.now). */
  now?: () => number;
}

const RECENT = 8; // matches listed

export class Lobby {
  private readonly root = byId('lobby');
  private readonly form = byId<HTMLFormElement>('name-form');
  private readonly nameInput = byId<HTMLInputElement>('name-input');
  private readonly target = byId('room-target');
  private readonly joinButton = byId<HTMLButtonElement>('join-button');
  private readonly createButton = byId<HTMLButtonElement>('create-button');
  private readonly message = byId('lobby-message');
  private readonly list = byId('room-list');
  private readonly online = byId('online-count');
  private readonly replaysSection = byId('replays-section');
  private readonly replayList = byId('replay-list');
  private code: string | null = null;
  /** The player was told the room is gone and pressed Join again: open it anew. */
  private reopen = false;
  private busy = false;

  constructor(private readonly opts: LobbyOptions) {
    this.nameInput.value = loadName();
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (this.code) void this.join(this.code);
      else void this.create();
    });
    this.createButton.addEventListener('click', () => void this.create());
  }

  get visible(): boolean {
    return !this.root.hidden;
  }

  /** Shows the lobby for a route, optionally with a message (e.g. why the last match ended). */
  open(route: Route, message?: { text: string; info?: boolean }): void {
    this.code = route.kind === 'room' ? route.code : null;
    this.reopen = false;
    show(this.root, true);
    show(this.joinButton, this.code !== null);
    this.joinButton.textContent = this.code ? `Join room ${this.code}` : 'Join';
    this.createButton.className = this.code ? 'secondary' : '';
    this.createButton.textContent = this.code ? 'Create a new room instead' : 'Create a room';
    show(this.target, this.code !== null);
    this.target.textContent = this.code ? `You were invited to room ${this.code}.` : '';
    this.say(message?.text ?? null, message?.info);
    this.nameInput.focus();
    void this.refresh();
  }

  close(): void {
    show(this.root, false);
  }

  /** Reloads the room list (the bootstrap calls this every few seconds while visible). */
  async refresh(): Promise<void> {
    if (!this.visible) return;
    await Promise.all([this.refreshRooms(), this.refreshReplays()]);
  }

  private async refreshRooms(): Promise<void> {
    let lobby: LobbyInfo;
    try {
      lobby = await fetchLobby();
    } catch {
      show(this.online, false);
      this.list.replaceChildren(el('li', 'empty', 'Server unreachable.'));
      return;
    }
    show(this.online, true);
    this.online.textContent = onlineText(lobby.online, lobby.instances, lobby.clustered);
    const rooms = lobby.rooms;
    if (rooms.length === 0) {
      this.list.replaceChildren(el('li', 'empty', 'No rooms yet: create one.'));
      return;
    }
    this.list.replaceChildren(...rooms.map((r) => this.roomRow(r)));
  }

  private roomRow(r: RoomInfo): HTMLLIElement {
    const li = el('li');
    if (r.instance) li.dataset.instance = r.instance;
    const full = r.players >= r.max;
    li.append(el('span', 'code', r.code), el('span', full ? 'count full' : 'count', `${r.players}/${r.max} players${full ? ' · full' : ''}`));
    const b = el('button', 'secondary', 'Join');
    b.type = 'button';
    b.disabled = full;
    b.addEventListener('click', () => {
      this.opts.onRoute(r.code);
      void this.join(r.code);
    });
    const watch = el('a', 'watch', 'Watch');
    watch.href = watchHash(r.code);
    watch.title = `Watch room ${r.code} without playing`;
    li.append(b, watch);
    return li;
  }

  /** The recent matches; the section stays hidden while the server records none (or cannot say). */
  private async refreshReplays(): Promise<void> {
    const list = await listReplays(RECENT).catch(() => null);
    if (!list?.recording || list.replays.length === 0) {
      show(this.replaysSection, false);
      return;
    }
    const now = (this.opts.now ?? Date.now)();
    this.replayList.replaceChildren(...list.replays.map((r) => replayRow(r, now)));
    show(this.replaysSection, true);
  }

  private say(text: string | null, info = false): void {
    show(this.message, text !== null);
    this.message.textContent = text ?? '';
    this.message.className = info ? 'message info' : 'message';
  }

  /** A session for the typed name: the stored one when the name is unchanged, else a new one. */
  private async session(): Promise<StoredSession | null> {
    const name = this.nameInput.value.trim();
    if (!name) {
      this.say('Enter a name first.');
      this.nameInput.focus();
      return null;
    }
    saveName(name);
    const stored = loadSession();
    if (stored && stored.name === name) return stored;
    try {
      const s = await createSession(name);
      const session = { token: s.token, name: s.name };
      saveSession(session);
      return session;
    } catch (err) {
      const e = err as ApiError;
      this.say(e.status === 400 ? `That name was refused: ${e.message}.` : e.message);
      return null;
    }
  }

  private enter(code: string, session: StoredSession, target: string | null = null): void {
    const s = { ...session, room: code };
    saveSession(s);
    this.opts.onJoin(code, s, target);
  }

  private async create(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const session = await this.session();
      if (!session) return;
      const room = await createRoom();
      this.opts.onRoute(room.code);
      this.enter(room.code, session, room.ws); // straight to the instance that holds it: no redirect
    } catch (err) {
      this.say((err as Error).message);
    } finally {
      this.busy = false;
    }
  }

  private async join(code: string): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const session = await this.session();
      if (!session) return;
      const rooms = await listRooms().catch(() => null);
      const room = rooms?.find((r) => r.code === code);
      // Not listed: a code drawn by POST /api/rooms is held before its first player opens the room.
      const held = rooms && !room && !this.reopen ? await findRoom(code).catch(() => null) : null;
      if (rooms && !room && !this.reopen && !held) {
        this.code = code;
        this.reopen = true;
        show(this.joinButton, true);
        this.joinButton.textContent = `Open room ${code} again`;
        this.say(`Room ${code} is gone (rooms close when everyone has left). Join to open it again, or create a new one.`, true);
        return;
      }
      if (room && room.players >= room.max && session.room !== code) {
        this.say(`Room ${code} is full (${room.players}/${room.max} players). Try another room or create one.`);
        return;
      }
      this.enter(code, session, held?.ws ?? null);
    } finally {
      this.busy = false;
    }
  }
}

/** One recorded match: room, length, when, a link to its replay, and who played. */
function replayRow(r: ReplayListing, now: number): HTMLLIElement {
  const li = el('li');
  li.dataset.replay = r.id;
  const seconds = typeof r.duration_s === 'number' ? r.duration_s : r.steps / (r.tickRate || 30);
  const link = el('a', 'watch', 'Watch replay');
  link.href = replayHash(r.id);
  li.append(el('span', 'code', r.room), el('span', 'meta', `${clockText(seconds)} · ${agoText(r.endedAt, now)}`), link,
    el('span', 'players', playersText(r.players)));
  return li;
}

/** The lobby's head count: "12 players online", and across a cluster "… on 3 servers". */
export function onlineText(online: number, instances: number, clustered: boolean): string {
  const players = `${online} ${online === 1 ? 'player' : 'players'} online`;
  return clustered ? `${players} on ${instances} ${instances === 1 ? 'server' : 'servers'}` : players;
}
