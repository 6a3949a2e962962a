/**
 * The DOM heads-up display over the arena: room chip with the share link (and
 * "N watching" while the room has spectators), round timer, winner banner,
 * scoreboard and kill feed. Updated from the world
 * view each frame, but it only touches the DOM when what it shows changed.
 */
import { PHASE_INTERMISSION } from '../../sim/state.ts';
import { byId, cssColor, el, show, trimChildren } from './dom.ts';
import { playerColor } from './palette.ts';
import type { RoundView } from './view.ts';

export interface Score {
  score: number;
  kills: number;
  deaths: number;
}

export interface Member {
  name: string;
  connected: boolean;
}

const FEED_MS = 6000; // a kill feed line stays this long
const START_BANNER_MS = 2000;

const BOARD_EVERY_MS = 250; // scoreboard refresh at most 4 times a second

export class Hud {
  private readonly root = byId('hud');
  private readonly round = byId('round');
  private readonly banner = byId('banner');
  private readonly board = byId('scoreboard');
  private readonly feed = byId('killfeed');
  private readonly chip = byId('room-chip');
  private readonly watchers = el('span', 'watchers');
  private watchersShown = -1;
  private readonly feedUntil: number[] = [];
  private boardKey = '';
  /** The `boardStamp` and player id the scoreboard was last checked for. */
  private boardStamp: number | null = null;
  private boardAt = -Infinity; // ms, last rebuild
  private boardMe = -1;
  private roundKey = '';
  private bannerKey = '';
  private startBanner: { round: number; until: number } | null = null;

  constructor() {
    this.clear(); // the elements (index.html) outlive a match: no lines or scores from the last one
    show(this.root, true);
  }

  /** The match is over: empty and hide the overlay. */
  destroy(): void {
    this.clear();
    show(this.root, false);
  }

  private clear(): void {
    this.round.textContent = '';
    show(this.banner, false);
    this.banner.replaceChildren();
    this.board.replaceChildren();
    this.feed.replaceChildren();
    this.chip.replaceChildren();
    this.watchers.textContent = '';
    this.watchersShown = -1;
    this.feedUntil.length = 0;
    this.boardKey = this.roundKey = this.bannerKey = '';
    this.boardStamp = null;
    this.boardAt = -Infinity;
    this.boardMe = -1;
    this.startBanner = null;
  }

  /** Room code and a button that copies the share link. */
  setRoom(code: string, link: string): void {
    const copy = el('button', 'secondary', 'Copy link');
    copy.type = 'button';
    copy.title = link;
    copy.addEventListener('click', () => {
      copy.blur(); // Space fires; it must not press this button again
      const done = () => { copy.textContent = 'Copied!'; };
      const ask = () => { window.prompt('Copy this link:', link); };
      // No clipboard API on insecure origins (http://192.168.x.x:8080): let the player copy it by hand.
      if (!navigator.clipboard) {
        ask();
        return;
      }
      navigator.clipboard.writeText(link).then(done, ask);
    });
    copy.style.marginLeft = '8px';
    copy.style.padding = '1px 8px';
    this.chip.replaceChildren(document.createTextNode(`Room ${code}`), this.watchers, copy);
  }

  /** "· N watching" in the room chip while `n` > 0 (a spectator's own banner says it instead: pass 0). */
  setWatchers(n: number): void {
    if (n === this.watchersShown) return;
    this.watchersShown = n;
    this.watchers.textContent = n > 0 ? ` · ${n} watching` : '';
    this.watchers.title = n > 0 ? `${n} spectator${n === 1 ? '' : 's'} watching this room` : '';
  }

  roundStarted(round: number, now: number): void {
    this.startBanner = { round, until: now + START_BANNER_MS };
  }

  killed(killer: string, victim: string, now: number): void {
    this.feed.append(el('li', '', `${killer} ✕ ${victim}`));
    this.feedUntil.push(now + FEED_MS);
    trimChildren(this.feed, 6);
    while (this.feedUntil.length > this.feed.childElementCount) this.feedUntil.shift();
  }

  note(text: string, now: number): void {
    this.feed.append(el('li', '', text));
    this.feedUntil.push(now + FEED_MS);
    trimChildren(this.feed, 6);
    while (this.feedUntil.length > this.feed.childElementCount) this.feedUntil.shift();
  }

  /**
   * `scores`: the last known score of each player id (far players drop out of our view, not off the board).
   * `boardStamp` changes whenever `scores` or `roster` may have (they are updated in place): the
   * scoreboard is only rebuilt then, not every frame.
   */
  update(
    now: number, round: RoundView | null, scores: ReadonlyMap<number, Score>, me: number, roster: ReadonlyMap<number, Member>,
    dead: boolean, boardStamp: number,
  ): void {
    while (this.feedUntil.length && this.feedUntil[0] <= now) {
      this.feedUntil.shift();
      this.feed.firstElementChild?.remove();
    }
    this.updateRound(now, round, roster, dead);
    // A scoreboard needs no more than a few refreshes a second; rebuilding it on each snapshot
    // was the largest DOM cost of a frame.
    const due = me !== this.boardMe || (boardStamp !== this.boardStamp && now - this.boardAt >= BOARD_EVERY_MS);
    if (due) {
      this.boardStamp = boardStamp;
      this.boardMe = me;
      this.boardAt = now;
      this.updateBoard(scores, me, roster);
    }
  }

  private updateRound(now: number, round: RoundView | null, roster: ReadonlyMap<number, Member>, dead: boolean): void {
    let text = '';
    let banner = '';
    let sub = '';
    if (round) {
      const m = Math.floor(round.time / 60);
      const s = String(round.time % 60).padStart(2, '0');
      if (round.phase === PHASE_INTERMISSION) {
        text = `Next round in ${round.time}s`;
        const winner = round.winner ? roster.get(round.winner)?.name ?? `Player ${round.winner}` : '';
        banner = winner ? `${winner} wins round ${round.number}!` : `Round ${round.number} over`;
        sub = `Next round in ${round.time}s`;
      } else {
        text = `Round ${round.number} · ${m}:${s}`;
        if (this.startBanner && now < this.startBanner.until) banner = `Round ${this.startBanner.round}: fight!`;
        else if (dead) {
          banner = 'Eliminated';
          sub = 'Respawning…';
        }
      }
    }
    if (text !== this.roundKey) {
      this.roundKey = text;
      this.round.textContent = text;
    }
    const key = `${banner}|${sub}`;
    if (key !== this.bannerKey) {
      this.bannerKey = key;
      show(this.banner, banner !== '');
      this.banner.replaceChildren(document.createTextNode(banner));
      if (sub) this.banner.append(el('small', '', sub));
    }
  }

  private updateBoard(scores: ReadonlyMap<number, Score>, me: number, roster: ReadonlyMap<number, Member>): void {
    const zero: Score = { score: 0, kills: 0, deaths: 0 };
    const rows = [...roster.keys()].map((id) => ({ id, ...(scores.get(id) ?? zero) }));
    rows.sort((a, b) => b.score - a.score || a.id - b.id);
    let key = `${me}`;
    for (const p of rows) key += `|${p.id}:${p.score}:${p.kills}:${p.deaths}:${roster.get(p.id)?.name}:${roster.get(p.id)?.connected}`;
    if (key === this.boardKey) return;
    this.boardKey = key;
    this.board.replaceChildren(...rows.slice(0, 16).map((p) => {
      const m = roster.get(p.id);
      const li = el('li', `${p.id === me ? 'me' : ''}${m && !m.connected ? ' away' : ''}`);
      const name = el('span', 'n', m?.name ?? `Player ${p.id}`);
      if (p.id !== me) name.style.color = cssColor(playerColor(p.id));
      li.append(name, el('span', '', `${p.kills}/${p.deaths}`), el('b', '', String(p.score)));
      li.title = 'kills/deaths, score';
      return li;
    }));
  }
}
