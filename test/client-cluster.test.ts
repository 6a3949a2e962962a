/** The browser client's cluster parts that need no DOM: socket URLs and targets, API bodies, lobby and chat words. */
import { describe, expect, it } from 'vitest';
import { lobbyInfo, newRoom, socketUrl } from '../game/client/src/api.ts';
import { Events, lostSeat } from '../game/client/src/events.ts';
import { onlineText } from '../game/client/src/lobby.ts';
import { formatFigures, type Figures } from '../game/client/src/netgraph.ts';
import { closeMessage, describe as connInfo } from '../game/client/src/status.ts';
import { instanceEndpoint, instanceFromQuery, Target, usableEndpoint } from '../game/client/src/target.ts';
import type { NetClient } from '../netcode/client.ts';
import { CLOSE_KICKED, CLOSE_REDIRECT, CLOSE_TOO_SLOW, EV_ANNOUNCE, EV_NOTICE } from '../netcode/protocol.ts';

const page = { protocol: 'http:', host: 'play.example:8080' };

describe('socket URL', () => {
  it('goes to the page\'s /ws without a target, keeping room and token', () => {
    expect(socketUrl(page, 'ABCDE', 't.k/=')).toBe('ws://play.example:8080/ws?room=ABCDE&token=t.k%2F%3D');
    expect(socketUrl({ protocol: 'https:', host: 'h' }, 'ABCDE', 't', null)).toBe('wss://h/ws?room=ABCDE&token=t');
  });

  it('goes to the target endpoint when there is one, with the same room and token', () => {
    expect(socketUrl(page, 'ABCDE', 'tok', 'ws://127.0.0.1:8080/i/b/ws')).toBe('ws://127.0.0.1:8080/i/b/ws?room=ABCDE&token=tok');
    expect(socketUrl({ protocol: 'https:', host: 'h' }, 'ABCDE', 'tok', 'wss://b.example/ws')).toBe('wss://b.example/ws?room=ABCDE&token=tok');
  });

  it('falls back to the page\'s /ws for a target this page cannot open', () => {
    expect(socketUrl({ protocol: 'https:', host: 'h' }, 'ABCDE', 'tok', 'ws://b.example/ws')).toBe('wss://h/ws?room=ABCDE&token=tok');
    expect(socketUrl(page, 'ABCDE', 'tok', 'http://b.example/ws')).toBe('ws://play.example:8080/ws?room=ABCDE&token=tok');
    expect(socketUrl(page, 'ABCDE', 'tok', 'not a url')).toBe('ws://play.example:8080/ws?room=ABCDE&token=tok');
  });

  it('accepts ws(s) endpoints only, without their query', () => {
    expect(usableEndpoint('ws://10.0.0.2:8081/ws?room=X#y', 'http:')).toBe('ws://10.0.0.2:8081/ws');
    expect(usableEndpoint('wss://b.example/i/b/ws', 'http:')).toBe('wss://b.example/i/b/ws');
    expect(usableEndpoint('ws://b.example/ws', 'https:')).toBeNull(); // mixed content
    expect(usableEndpoint('javascript:alert(1)', 'http:')).toBeNull();
    expect(usableEndpoint('', 'http:')).toBeNull();
  });
});

describe('socket target', () => {
  it('pins the first connection to an instance named in the page query', () => {
    expect(instanceFromQuery('?lag=50&instance=b')).toBe('b');
    expect(instanceFromQuery('instance=node-2_x')).toBe('node-2_x');
    expect(instanceFromQuery('?instance=../x')).toBeNull();
    expect(instanceFromQuery('?instance=')).toBeNull();
    expect(instanceFromQuery('')).toBeNull();
    expect(instanceEndpoint(page, 'b')).toBe('ws://play.example:8080/i/b/ws');
    expect(instanceEndpoint({ protocol: 'https:', host: 'h' }, 'b')).toBe('wss://h/i/b/ws');
  });

  it('follows a redirect and keeps the target through the redirect close', () => {
    const t = new Target();
    expect(t.url).toBeNull();
    t.redirect('ws://h/i/b/ws');
    t.state('open', 'connecting', false); // the CLOSE_REDIRECT
    t.state('connecting', 'connecting', false); // the next attempt starts
    expect(t.url).toBe('ws://h/i/b/ws');
    t.state('connecting', 'open', false);
    expect(t.url).toBe('ws://h/i/b/ws');
    expect(t.redirects).toBe(1);
  });

  it('forgets the target when an attempt fails without opening', () => {
    const t = new Target('ws://dead/ws');
    t.state('idle', 'connecting', false);
    t.state('connecting', 'reconnecting', false);
    expect(t.url).toBeNull();
    const u = new Target('ws://dead/ws');
    u.state('connecting', 'offline', false);
    expect(u.url).toBeNull();
  });

  it('keeps the target for the first retry after a live connection drops, not past a failed one', () => {
    const t = new Target('ws://owner/ws');
    t.state('open', 'reconnecting', true); // welcomed, then dropped
    expect(t.url).toBe('ws://owner/ws');
    t.state('reconnecting', 'connecting', false);
    t.state('connecting', 'reconnecting', false); // the retry did not open
    expect(t.url).toBeNull();
  });

  it('forgets a target that opened but closed before any WELCOME (not a redirect)', () => {
    const t = new Target('ws://draining/ws');
    t.state('open', 'reconnecting', false, 1006);
    expect(t.url).toBeNull();
  });

  it('keeps the target of a redirect the socket backs off from (too many in a row)', () => {
    const t = new Target();
    t.redirect('ws://owner/ws');
    t.state('open', 'reconnecting', false, CLOSE_REDIRECT);
    expect(t.url).toBe('ws://owner/ws');
  });
});

describe('HTTP API bodies', () => {
  it('reads the cluster lobby', () => {
    const l = lobbyInfo({
      rooms: [{ code: 'ABCDE', players: 2, connected: 1, max: 16, instance: 'b' }], online: 12, instances: 3, clustered: true,
    });
    expect(l).toEqual({ rooms: [{ code: 'ABCDE', players: 2, connected: 1, max: 16, instance: 'b' }], online: 12, instances: 3, clustered: true });
  });

  it('reads an older server\'s lobby (rooms only)', () => {
    const l = lobbyInfo({ rooms: [{ code: 'ABCDE', players: 3, connected: 2, max: 16 }, { code: 'FGHIJ', players: 1, connected: 1, max: 16 }, null, { players: 1 }] });
    expect(l.rooms.map((r) => r.instance)).toEqual(['', '']);
    expect(l).toMatchObject({ online: 3, instances: 1, clustered: false });
    expect(lobbyInfo(null)).toEqual({ rooms: [], online: 0, instances: 1, clustered: false });
  });

  it('takes a new room\'s endpoint from a cluster, not from a standalone server or an older one', () => {
    expect(newRoom({ code: 'ABCDE', instance: 'b', url: 'http://h/i/b', ws: 'ws://h/i/b/ws' })).toEqual({ code: 'ABCDE', ws: 'ws://h/i/b/ws' });
    expect(newRoom({ code: 'ABCDE', instance: '', url: 'http://localhost:8080', ws: 'ws://localhost:8080/ws' })).toEqual({ code: 'ABCDE', ws: null });
    expect(newRoom({ code: 'ABCDE' })).toEqual({ code: 'ABCDE', ws: null });
    expect(() => newRoom({})).toThrow(/room code/);
  });
});

describe('lobby and chat words', () => {
  it('counts players online, and servers in a cluster', () => {
    expect(onlineText(12, 1, false)).toBe('12 players online');
    expect(onlineText(1, 1, false)).toBe('1 player online');
    expect(onlineText(0, 1, false)).toBe('0 players online');
    expect(onlineText(12, 3, true)).toBe('12 players online on 3 servers');
    expect(onlineText(5, 1, true)).toBe('5 players online on 1 server');
  });

  it('tells a room that started over from a seat that lapsed', () => {
    const a = lostSeat({ instance: 'a', tick: 900 }, 'b', 0);
    expect(a.restarted).toBe(true);
    expect(a.text).toMatch(/room was restarted on another server/);
    const same = lostSeat({ instance: '', tick: 900 }, '', 3); // a standalone server restarted
    expect(same.restarted).toBe(true);
    expect(same.text).toMatch(/room was restarted/);
    const lapsed = lostSeat({ instance: 'a', tick: 900 }, 'a', 2900); // the room lived on without us
    expect(lapsed.restarted).toBe(false);
    expect(lapsed.text).not.toMatch(/restarted/);
  });

  it('sends an announcement to its own sink, apart from notices and chat', () => {
    const lines: string[] = [];
    const sink = {
      chat: (_from: number, name: string, text: string) => lines.push(`chat ${name}: ${text}`),
      notice: (text: string) => lines.push(`notice ${text}`),
      announce: (text: string) => lines.push(`announce ${text}`),
      kill: () => {}, feed: () => {}, roundStarted: () => {},
    };
    const net = { playerId: 1, room: 'ABCDE', roster: new Map() } as unknown as NetClient;
    const ev = new Events(sink, () => net);
    ev.snapshot([[EV_ANNOUNCE, 'Maintenance at 18:00 <b>UTC</b>'], [EV_NOTICE, 'slow down']], 0);
    expect(lines).toEqual(['announce Maintenance at 18:00 <b>UTC</b>', 'notice slow down']);
  });

  it('says who removed the player, and shows the instance in the netgraph', () => {
    expect(closeMessage(CLOSE_KICKED, 'kicked by an operator')).toBe('You were removed from the room (kicked by an operator).');
    expect(closeMessage(CLOSE_KICKED, '')).toBe('You were removed from the room.');
    const f: Figures = {
      ping: 0, jitter: 0, snapshotRate: 0, kbpsIn: 0, kbpsOut: 0, interpDelay: 0, transit: 0, bufferMs: 0, extrapolating: false,
      corrections: 0, correctionLast: 0, correctionMax: 0, correctionP99: 0, pendingInputs: 0, fps: 0, frameWorkMs: 0,
      frameWorkMsP95: 0, entities: 0, desyncs: 0, sim: '', instance: 'b', redirects: 1, moves: 0,
    };
    expect(formatFigures(f).split('\n')[0]).toBe('server    b   redirects 1');
    expect(formatFigures({ ...f, redirects: 2, moves: 1 }).split('\n')[0]).toBe('server    b   redirects 2   moves 1');
    expect(formatFigures({ ...f, instance: '', redirects: 0 }).split('\n')[0]).toBe('server    standalone');
  });

  it('tells a player whose room moves that it is a short reconnect, not an error', () => {
    const moving = 'Server update: moving you to another server…';
    expect(connInfo('connecting', false, null, 0, '', true)).toEqual({ state: 'reconnecting', text: moving });
    expect(connInfo('open', false, null, 0, '', true)).toEqual({ state: 'reconnecting', text: moving });
    expect(connInfo('open', true, null, 0, '', true).state).toBe('connected');
    expect(connInfo('connecting', false, null, 0, '', false).state).toBe('connecting');
    // A move that fails falls back to the usual backoff and its words.
    expect(connInfo('reconnecting', false, 1500, 0, '', true).text).toBe('Reconnecting in 2 s…');
    // Dropped for reading too slowly: said so, and retried.
    expect(connInfo('reconnecting', false, 1500, 0, '', false, CLOSE_TOO_SLOW)).toEqual({ state: 'reconnecting', text: 'Connection too slow: reconnecting in 2 s…' });
    expect(connInfo('reconnecting', false, null, 0, '', false, CLOSE_TOO_SLOW).text).toBe('Connection too slow: reconnecting…');
  });
});
