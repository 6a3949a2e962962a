/**
 * The operator's API, behind ADMIN_TOKEN (`Authorization: Bearer TOKEN`); off when the
 * setting is empty (403). Announcements, kicks and room closes reach every instance of
 * the cluster (over the Redis bus); the player list is this instance's. The live monitor
 * page (`/monitor`) and its feed are monitor/routes.ts's, behind the same token.
 *
 *   POST /api/admin/announce {"text"}                          → {ok, instances, text}
 *   POST /api/admin/kick {"player": SID} | {"room", "id"} [+ "reason"] → {kicked: [{instance, room, id, name}]}, 404 if none
 *   POST /api/admin/close {"room": "ABCDE"} [+ "reason"]       → {closed: [{instance, room, players}]}, 404 if no live
 *                                                                instance held it: wherever the room runs, its players
 *                                                                are told why and closed with CLOSE_ROOM_CLOSED (4006,
 *                                                                no reconnect) and the room is removed; its code is free
 *   GET  /api/admin/players                                    → {instance, players: [{room, sid, id, name, connected, ip}]}
 *   POST /api/admin/drain                                      → 202 {draining, instance, rooms, players, deadline_s}: this
 *                                                                instance drains as on SIGTERM (drain.ts), then exits 0
 */
import { timingSafeEqual } from 'node:crypto';
import type uWS from 'uWebSockets.js';
import { LIMITS } from '../netcode/protocol.ts';
import { cleanText } from '../netcode/text.ts';
import { isRoomCode, parseKickTarget } from './cluster/bus.ts';
import type { ClusterNode } from './cluster/node.ts';
import type { Config } from './config.ts';
import type { Drainer } from './drain.ts';
import { json, later, readBody } from './http.ts';
import type { RoomManager } from './rooms.ts';

export interface AdminDeps {
  cfg: Config;
  manager: RoomManager;
  cluster: ClusterNode;
  drainer: Drainer;
  /** Starts the drain (and, in the server process, the exit after it). */
  onDrain: () => void;
}

/** Whether `token` is ADMIN_TOKEN (compared in constant time); never when the admin API is off. */
export function isAdminToken(cfg: Config, token: string): boolean {
  const given = Buffer.from(token);
  const want = Buffer.from(cfg.adminToken);
  return want.length > 0 && given.length === want.length && timingSafeEqual(given, want);
}

/** The token of an `Authorization: Bearer TOKEN` header ('' when none). */
export const bearerOf = (header: string): string => /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim() ?? '';

/** Whether `header` carries the admin token; answers 403 (API off) or 401 itself when not. */
export function authorized(res: uWS.HttpResponse, cfg: Config, header: string): boolean {
  if (cfg.adminToken === '') {
    json(res, '403 Forbidden', { error: 'the admin API is off: set ADMIN_TOKEN on the server' });
    return false;
  }
  if (!isAdminToken(cfg, bearerOf(header))) {
    json(res, '401 Unauthorized', { error: 'admin token missing or wrong: send Authorization: Bearer ADMIN_TOKEN' });
    return false;
  }
  return true;
}

/** A JSON object body, or null after answering 400. */
function objectBody(res: uWS.HttpResponse, body: Buffer): Record<string, unknown> | null {
  try {
    const v = JSON.parse(body.toString('utf8') || '{}') as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // answered below
  }
  json(res, '400 Bad Request', { error: 'body must be a JSON object' });
  return null;
}

export function mountAdmin(app: uWS.TemplatedApp, d: AdminDeps): void {
  app.post('/api/admin/announce', (res, req) => {
    if (!authorized(res, d.cfg, req.getHeader('authorization'))) return;
    readBody(res, 4096, (body, gone) => {
      const o = objectBody(res, body);
      if (!o) return;
      const text = typeof o.text === 'string' ? cleanText(o.text, LIMITS.maxAnnouncementLength) : '';
      if (!text) return json(res, '400 Bad Request', { error: `text must be a non-empty string (at most ${LIMITS.maxAnnouncementLength} characters)` });
      later(res, async () => ['200 OK', { ok: true, instances: await d.cluster.announce(text), text }], gone);
    });
  });

  app.post('/api/admin/kick', (res, req) => {
    if (!authorized(res, d.cfg, req.getHeader('authorization'))) return;
    readBody(res, 4096, (body, gone) => {
      const o = objectBody(res, body);
      if (!o) return;
      const target = parseKickTarget(o);
      if (typeof target === 'string') return json(res, '400 Bad Request', { error: target });
      const reason = typeof o.reason === 'string' && cleanText(o.reason, 120) ? cleanText(o.reason, 120) : 'removed by an operator';
      later(res, async () => {
        const kicked = await d.cluster.kick(target, reason);
        return kicked.length ? ['200 OK', { kicked }] : ['404 Not Found', { error: 'no player matched on any live instance', kicked }];
      }, gone);
    });
  });

  app.post('/api/admin/close', (res, req) => {
    if (!authorized(res, d.cfg, req.getHeader('authorization'))) return;
    readBody(res, 4096, (body, gone) => {
      const o = objectBody(res, body);
      if (!o) return;
      const room = typeof o.room === 'string' ? o.room.toUpperCase() : o.room;
      if (!isRoomCode(room)) return json(res, '400 Bad Request', { error: 'room must be a room code of 5 letters, e.g. {"room": "ABCDE"}' });
      const reason = typeof o.reason === 'string' && cleanText(o.reason, 120) ? cleanText(o.reason, 120) : 'closed by an operator';
      later(res, async () => {
        const closed = await d.cluster.close(room, reason);
        return closed.length ? ['200 OK', { closed }] : ['404 Not Found', { error: `no live instance held room ${room}`, closed }];
      }, gone);
    });
  });

  app.post('/api/admin/drain', (res, req) => {
    if (!authorized(res, d.cfg, req.getHeader('authorization'))) return;
    const already = d.drainer.draining;
    const rooms = [...d.manager.rooms.values()];
    if (!already) d.onDrain();
    json(res, '202 Accepted', {
      draining: true, already, instance: d.cluster.id, rooms: rooms.length, players: rooms.reduce((n, r) => n + r.playerCount, 0),
      deadline_s: d.cfg.drainDeadlineS,
    });
  });

  app.get('/api/admin/players', (res, req) => {
    if (!authorized(res, d.cfg, req.getHeader('authorization'))) return;
    const players = [...d.manager.rooms.values()].flatMap((r) => r.members().map((m) => ({ room: r.code, ...m })));
    json(res, '200 OK', { instance: d.cluster.id, players });
  });
}
