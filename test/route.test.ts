/**
 * Hash routes of the browser client: rooms, watching a room as a spectator, and the
 * replay viewer; the hash helpers give back what parseRoute reads, and anything
 * malformed is the lobby.
 */
import { describe, expect, it } from 'vitest';
import { codeFrom, parseRoute, replayHash, roomHash, watchHash } from '../game/client/src/route.ts';

describe('hash routes', () => {
  it('reads rooms, watch links and replays', () => {
    expect(parseRoute('#/r/ABCDE')).toEqual({ kind: 'room', code: 'ABCDE' });
    expect(parseRoute('#/r/abcde/')).toEqual({ kind: 'room', code: 'ABCDE' });
    expect(parseRoute('#/r/ABCDE/watch')).toEqual({ kind: 'watch', code: 'ABCDE' });
    expect(parseRoute('#/r/qwert/watch/')).toEqual({ kind: 'watch', code: 'QWERT' });
    expect(parseRoute('#/replay/abcde-20260101-120000-t42')).toEqual({ kind: 'replay', id: 'abcde-20260101-120000-t42' });
  });

  it('sends anything else to the lobby', () => {
    for (const h of ['', '#', '#/', '#/r/ABCD', '#/r/ABCDEF', '#/r/ABCDE/play', '#/r/ABCDE/watchx', '#/replay/', '#/replay/..%2F..%2Fetc',
      '#/replay/UPPER', '#/replay/-dash', '#/replay/a/b', '#/replay/%E0%A4%A']) {
      expect(parseRoute(h), h).toEqual({ kind: 'lobby' });
    }
  });

  it('builds hashes that parse back', () => {
    expect(roomHash('ABCDE')).toBe('#/r/ABCDE');
    expect(watchHash('ABCDE')).toBe('#/r/ABCDE/watch');
    expect(parseRoute(watchHash('ABCDE'))).toEqual({ kind: 'watch', code: 'ABCDE' });
    const id = 'zzzzz-20260315-093001-t1800';
    expect(replayHash(id)).toBe(`#/replay/${id}`);
    expect(parseRoute(replayHash(id))).toEqual({ kind: 'replay', id });
  });

  it('takes a room code out of a watch link as out of a room link', () => {
    expect(codeFrom('http://h:1/#/r/abcde/watch')).toBe('ABCDE');
  });
});
