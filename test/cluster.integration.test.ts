/**
 * Scale-out with real parts: a redis-server, three instance processes and nginx in
 * front, all on free loopback ports (server/deploy/cluster.ts), and players that
 * follow redirects and reconnect like the browser (helpers/cluster-client.ts).
 * The fault tests run last: a Redis restart, then a SIGKILLed instance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeClient } from '../netcode/codec.ts';
import { C_PING, CLOSE_KICKED, EV_ANNOUNCE, EV_LEAVE, S_PONG, S_REDIRECT, S_WELCOME } from '../netcode/protocol.ts';
import { frameMessages, sseEndpoints } from '../netcode/sse.ts';
import { type RunningCluster, startCluster } from '../server/deploy/cluster.ts';
import { startInstance } from '../server/deploy/instance.ts';
import { haveBinaries } from './helpers/binaries.ts';
import { ClusterClient, sidOf, token } from './helpers/cluster-client.ts';
import { EventStream } from './helpers/sse.ts';

const TTL_S = 2;
const enabled = haveBinaries('redis-server', 'nginx');

interface Owner { code: string; instance: string; url: string; ws: string; open: boolean }
interface Lobby { rooms: { code: string; instance: string; players: number }[]; online: number; instances: number }
interface Health { cluster: { redis: string; registered: boolean; instances: number } }

const getJson = async <T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> => {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as T };
};

/** Polls `check` (another process's state) every 50 ms until it holds; fails after `ms`. */
async function eventually<T>(what: string, check: () => Promise<T | null | undefined | false>, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!enabled)('a cluster of 3 instances over a real Redis behind a real nginx', () => {
  let c: RunningCluster;
  const logs: string[] = [];
  const clients: ClusterClient[] = [];
  const direct = (id: string) => c.instances.find((i) => i.id === id) as RunningCluster['instances'][number];
  const wsOf = (id: string) => `ws://127.0.0.1:${direct(id).port}/ws`;
  const player = async (endpoint: string, room: string, name: string, socket = {}) => {
    const tok = await token(c.url, name);
    const p = new ClusterClient(endpoint, room, tok, c.url, socket);
    clients.push(p);
    return { p, tok };
  };
  /** A new room (POST /api/rooms) placed on an instance not in `avoid`: placement goes by load, so a few draws do. */
  const newRoomAvoiding = async (avoid: string[]): Promise<Owner> => {
    for (let i = 0; i < 20; i++) {
      const o = (await getJson<Owner>(`${c.url}/api/rooms`, { method: 'POST' })).body;
      if (!avoid.includes(o.instance)) return o;
    }
    throw new Error(`every new room went to ${avoid}`);
  };
  const admin = (base: string, path: string, body: unknown, auth = `Bearer ${c.adminToken}`) =>
    getJson<Record<string, unknown>>(`${base}${path}`, { method: 'POST', headers: { authorization: auth }, body: JSON.stringify(body) });

  beforeAll(async () => {
    c = await startCluster({
      instances: 3, port: 0, log: (l) => logs.push(l),
      env: { NPC_COUNT: '4', CLUSTER_HEARTBEAT_S: '0.5', CLUSTER_TTL_S: String(TTL_S), LOG_LEVEL: 'info' },
    });
  }, 60_000);
  afterAll(async () => {
    for (const p of clients) p.close();
    await c?.stop();
  });

  it('any instance answers GET /api/rooms/CODE with the owner, and a WebSocket join at a non-owner is redirected there', async () => {
    const created = await getJson<Owner>(`${c.url}/api/rooms`, { method: 'POST' });
    expect(created.status).toBe(200);
    const { code, instance: owner } = created.body;
    expect(created.body.ws).toBe(`ws://127.0.0.1:${c.port}/i/${owner}/ws`);
    for (const i of c.instances) {
      const r = await getJson<Owner>(`${i.http}/api/rooms/${code}`);
      expect(r.status, `instance ${i.id}`).toBe(200);
      expect(r.body).toMatchObject({ code, instance: owner, url: `http://127.0.0.1:${c.port}/i/${owner}`, open: false });
    }
    expect((await getJson(`${c.instances[0].http}/api/rooms/NOONE`)).status).toBe(404);

    const other = c.instances.find((i) => i.id !== owner)?.id as string;
    const { p } = await player(wsOf(other), code, 'Ada');
    await p.until(() => p.live, 'a welcome after the redirect', 8000);
    expect(p.redirects).toEqual([owner]);
    expect(p.instance).toBe(owner);
    expect(p.states.some((s) => s.state === 'reconnecting' || s.state === 'closed')).toBe(false); // no error on the way
    // Through the front: whichever instance nginx picks, the player ends up on the owner.
    const { p: q } = await player(`ws://127.0.0.1:${c.port}/ws`, code, 'Bob');
    await q.until(() => q.live, 'Bob welcomed', 8000);
    expect(q.instance).toBe(owner);
    const opened = await eventually('the owner to list the room as open', async () => {
      const r = await getJson<Owner>(`${direct(other).http}/api/rooms/${code}`);
      return r.body.open ? r.body : null;
    });
    expect(opened.instance).toBe(owner);
    p.close();
    q.close();
  });

  it('an event stream (SSE) through the front is sent to its room\'s instance, where the stream and its POSTs meet', async () => {
    const { code, instance: owner } = await newRoomAvoiding([]);
    const { p } = await player(wsOf(owner), code, 'sse-host');
    await p.until(() => p.welcomes.length > 0, 'the host\'s WELCOME');
    const tok = await token(c.url, 'sse-watcher');
    // Through the round robin: whichever instance answers sends it to the owner's own address.
    const first = await EventStream.open(`${c.url}/api/rooms/${code}/events?token=${tok}&spectate=1`);
    expect(first.status).toBe(200);
    const redirect = await first.message(S_REDIRECT);
    expect(redirect).toMatchObject({ url: `ws://127.0.0.1:${c.port}/i/${owner}/ws`, instance: owner });
    expect((await first.until((e) => e.event === 'close')).data).toMatch(/^4009 /);
    first.close();
    const there = sseEndpoints(`${redirect.url}?room=${code}&token=${tok}&spectate=1`);
    const stream = await EventStream.open(there.events);
    const conn = (await stream.until((e) => e.event === 'open')).data;
    expect(await stream.message(S_WELCOME)).toMatchObject({ playerId: 0, room: code, instance: owner });
    const sent = await fetch(there.send(conn), { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: frameMessages([encodeClient({ type: C_PING, clientTime: 7 })]) });
    expect(sent.status).toBe(204);
    expect(await stream.message(S_PONG)).toMatchObject({ clientTime: 7 });
    stream.close();
  });

  it('when three instances race for the same new code, exactly one owns it, every time', async () => {
    const codes = Array.from({ length: 20 }, (_, i) => `RC${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + Math.floor(i / 26))}Z`);
    const joins = await Promise.all(codes.flatMap((code) => c.instances.map(async (i) => {
      const { p } = await player(wsOf(i.id), code, `r${i.id}`);
      await p.until(() => p.live, `a welcome in ${code} via ${i.id}`, 10_000);
      return { code, via: i.id, owner: p.instance };
    })));
    for (const code of codes) {
      const owners = new Set(joins.filter((j) => j.code === code).map((j) => j.owner));
      expect(owners.size, `${code} owned by ${[...owners]}`).toBe(1);
      const dir = await getJson<Owner>(`${c.url}/api/rooms/${code}`);
      expect(dir.body.instance).toBe([...owners][0]);
    }
    // No instance opened a room it does not own: each code is listed once, by its owner.
    const lobby = await eventually('every raced room in the lobby', async () => {
      const l = (await getJson<Lobby>(`${c.url}/api/rooms`)).body;
      return codes.every((code) => l.rooms.some((r) => r.code === code && r.players === 3)) ? l : null;
    });
    for (const code of codes) {
      const listed = lobby.rooms.filter((r) => r.code === code);
      expect(listed.length, code).toBe(1);
      expect(listed[0].instance).toBe(joins.find((j) => j.code === code)?.owner);
    }
    // The race spread rooms over more than one instance (placement is by load, not by who was asked).
    expect(new Set(joins.map((j) => j.owner)).size).toBeGreaterThan(1);
    for (const p of clients.splice(0)) p.close();
  }, 40_000);

  it('lists the same rooms on every instance', async () => {
    const [x, y] = [c.instances[0].id, c.instances[1].id];
    const { p } = await player(wsOf(x), 'LISTA', 'La');
    const { p: q } = await player(wsOf(y), 'LISTB', 'Lb');
    await Promise.all([p.until(() => p.live, 'La', 8000), q.until(() => q.live, 'Lb', 8000)]);
    const lists = await eventually('the same rooms on every instance', async () => {
      const all = await Promise.all(c.instances.map(async (i) => (await getJson<Lobby>(`${i.http}/api/rooms`)).body));
      const keys = all.map((l) => JSON.stringify(l.rooms.map((r) => [r.code, r.instance, r.players])));
      // `online` too: each instance sums the records it last listed, as it does the rooms.
      return keys.every((k) => k === keys[0]) && all.every((l) => l.online === all[0].online)
        && all[0].rooms.some((r) => r.code === 'LISTA') && all[0].rooms.some((r) => r.code === 'LISTB') ? all : null;
    });
    expect(lists[0].instances).toBe(3);
    expect(lists[0].online).toBeGreaterThanOrEqual(2);
    p.close();
    q.close();
  });

  it('an announcement reaches every player on every instance, and a kick finds its player wherever it is', async () => {
    // Two rooms on two instances; players join through the front and are redirected as needed.
    const roomA = await newRoomAvoiding([]);
    const roomB = await newRoomAvoiding([roomA.instance]);
    const front = `ws://127.0.0.1:${c.port}/ws`;
    const { p: onA } = await player(front, roomA.code, 'Anna');
    const { p: onB, tok: bTok } = await player(front, roomB.code, 'Bert');
    const { p: mate } = await player(front, roomB.code, 'Mate');
    await Promise.all([onA, onB, mate].map((p) => p.until(() => p.live, 'welcome', 8000)));
    expect(onA.instance).toBe(roomA.instance);
    expect(onB.instance).toBe(roomB.instance);
    const third = c.instances.find((i) => i.id !== roomA.instance && i.id !== roomB.instance)?.id as string;

    expect((await admin(direct(third).http, '/api/admin/announce', { text: 'hi' }, 'Bearer wrong-token-wrong-token')).status).toBe(401);
    const sent = await admin(direct(third).http, '/api/admin/announce', { text: 'Server restarts at 18:00' });
    expect(sent.status).toBe(200);
    expect(sent.body.instances).toBe(3);
    for (const p of [onA, onB, mate]) {
      await p.until(() => p.events.some((e) => e[0] === EV_ANNOUNCE && e[1] === 'Server restarts at 18:00'), 'the announcement', 5000);
    }

    // The kick is asked of an instance that does not hold Bert.
    const kicked = await admin(direct(roomA.instance).http, '/api/admin/kick', { player: sidOf(bTok), reason: 'spamming' });
    expect(kicked.status).toBe(200);
    expect(kicked.body.kicked).toEqual([{ instance: onB.instance, room: roomB.code, id: onB.net.playerId, name: 'Bert' }]);
    await onB.until(() => onB.socket.state === 'closed', 'Bert closed', 5000);
    expect(onB.states.at(-1)?.code).toBe(CLOSE_KICKED);
    await mate.until(() => mate.events.some((e) => e[0] === EV_LEAVE && e[1] === onB.net.playerId), 'Bert gone for his mate', 5000);
    const again = await admin(c.url, '/api/admin/kick', { player: sidOf(bTok) });
    expect(again.status).toBe(404);
    for (const p of [onA, mate]) p.close();
  });

  it('takes a player\'s address from X-Forwarded-For only when a trusted proxy (nginx) sent it', async () => {
    const forged = { headers: { 'x-forwarded-for': '203.0.113.66' } };
    const { p, tok: viaNginx } = await player(`ws://127.0.0.1:${c.port}/ws`, 'PEERS', 'Nia', { ...forged, localAddress: '127.0.0.5' });
    await p.until(() => p.live, 'Nia', 8000);
    const owner = direct(p.instance);
    const { p: q, tok: straight } = await player(wsOf(owner.id), 'PEERS', 'Dex', { ...forged, localAddress: '127.0.0.6' });
    await q.until(() => q.live, 'Dex', 8000);
    const res = await fetch(`${owner.http}/api/admin/players`, { headers: { authorization: `Bearer ${c.adminToken}` } });
    const { players } = (await res.json()) as { players: { sid: string; ip: string }[] };
    // nginx appended the address it saw (127.0.0.5) after the forged one; a direct peer's header is ignored.
    expect(players.find((x) => x.sid === sidOf(viaNginx))?.ip).toBe('127.0.0.5');
    expect(players.find((x) => x.sid === sidOf(straight))?.ip).toBe('127.0.0.6');
    expect((await fetch(`${owner.http}/api/admin/players`)).status).toBe(401);
    p.close();
    q.close();
  });

  it('refuses to start a second instance under an INSTANCE_ID a live one holds', async () => {
    const id = c.instances[0].id;
    const said: string[] = [];
    await expect(startInstance({ id, env: c.envOf(id), log: (l) => said.push(l) })).rejects.toThrow(/exited/);
    expect(said.join('\n')).toMatch(new RegExp(`INSTANCE_ID ${id} is in use by another live instance`));
    expect((await getJson<Health>(`${c.instances[0].http}/healthz`)).body.cluster.registered).toBe(true);
  }, 20_000);

  /** Redis frozen (SIGSTOP) for `ms`: connected, answering nothing, as under a long fork or a stalled host. */
  const freezeRedis = async (ms: number, during: (frozen: () => boolean) => Promise<void>) => {
    const pid = c.redis.proc.child.pid as number;
    let frozen = true;
    process.kill(pid, 'SIGSTOP');
    const thawed = new Promise((r) => setTimeout(r, ms)).then(() => { frozen = false; process.kill(pid, 'SIGCONT'); });
    try {
      await during(() => frozen);
    } finally {
      await thawed;
    }
  };

  it('a join whose route waits on a slow Redis opens at once, keeps its HELLO, and is welcomed when Redis answers', async () => {
    const { p } = await player(wsOf(c.instances[0].id), 'SLOWR', 'Sam');
    await freezeRedis(400, async (frozen) => {
      await p.until(() => p.socket.state === 'open', 'the socket open while Redis is frozen', 3000);
      expect(frozen()).toBe(true); // accepted before the route was known
      expect(p.welcomes.length).toBe(0); // its HELLO waits with the socket for the route
    });
    await p.until(() => p.live, 'Sam welcomed once Redis answered', 5000);
    expect(p.welcomes.length).toBe(1);
    expect(p.states.map((s) => s.state)).not.toContain('reconnecting'); // the first socket was never dropped
  }, 15_000);

  it('a join whose route Redis cannot answer in time is told to try again later (1013), and gets in after', async () => {
    const { p } = await player(wsOf(c.instances[1].id), 'STUCK', 'Stu');
    await freezeRedis(1500, async () => {
      await p.until(() => p.states.some((s) => s.state === 'reconnecting'), 'the socket refused while Redis is frozen', 5000);
    });
    const refused = p.states.find((s) => s.state === 'reconnecting');
    expect(refused).toMatchObject({ code: 1013, reason: expect.stringMatching(/redis/i) });
    await p.until(() => p.live, 'Stu welcomed after Redis came back', 10_000);
    for (const i of c.instances) {
      await eventually(`${i.id} registered after the freeze`, async () => (await getJson<Health>(`${i.http}/healthz`)).body.cluster.registered);
    }
  }, 25_000);

  it('keeps every game ticking through a Redis restart, and the instances register again', async () => {
    const { p } = await player(wsOf(c.instances[0].id), 'REDIS', 'Rita');
    const { p: q } = await player(wsOf(c.instances[1].id), 'REDIS', 'Rolf');
    await Promise.all([p.until(() => p.live, 'Rita', 8000), q.until(() => q.live, 'Rolf', 8000)]);
    const a = p.instance;
    expect(q.instance).toBe(a);
    const other = c.instances.find((i) => i.id !== a) as RunningCluster['instances'][number];
    const before = p.snapshots;
    const linesBefore = logs.length;
    await c.redis.restart(1000); // down for a second, then back empty
    const during = p.snapshots - before;
    expect(during).toBeGreaterThan(20); // 30 Hz went on while Redis was gone
    for (const i of c.instances) {
      await eventually(`${i.id} registered again`, async () => {
        const h = (await getJson<Health>(`${i.http}/healthz`)).body;
        return h.cluster.redis === 'ready' && h.cluster.registered;
      });
    }
    // The room was claimed again by its owner in the fresh Redis.
    const owner = await eventually('REDIS owned again', async () => {
      const r = await getJson<Owner>(`${other.http}/api/rooms/REDIS`);
      return r.status === 200 ? r.body : null;
    });
    expect(owner.instance).toBe(a);
    expect(p.net.stats.desyncs + q.net.stats.desyncs).toBe(0);
    expect(p.welcomes.length).toBe(1); // never dropped
    const said = logs.slice(linesBefore);
    for (const i of c.instances) {
      expect(said.some((l) => l.startsWith(`[${i.id}]`) && /redis: .*games keep running/.test(l)), `${i.id} logged the outage`).toBe(true);
      expect(said.some((l) => l.startsWith(`[${i.id}]`) && /registry: registered as/.test(l)), `${i.id} logged re-registering`).toBe(true);
      expect(i.proc.running).toBe(true);
    }
    const metrics = await (await fetch(`${direct(a).http}/metrics`)).text();
    expect(metrics).toMatch(/^tickwire_redis_outages_total [1-9]/m);
    expect(metrics).toMatch(/^tickwire_redis_up 1$/m);
    expect(said.join('\n')).not.toMatch(/Unhandled|unhandled rejection/i);
    p.close();
    q.close();
  }, 30_000);

  it('when an instance is SIGKILLed, its rooms leave the directory within the TTL and its players reopen the room elsewhere', async () => {
    const { p } = await player(`ws://127.0.0.1:${c.port}/ws`, 'KILLD', 'Kim');
    const { p: q } = await player(`ws://127.0.0.1:${c.port}/ws`, 'KILLD', 'Kai');
    await Promise.all([p.until(() => p.live, 'Kim', 8000), q.until(() => q.live, 'Kai', 8000)]);
    const victim = direct(p.instance);
    expect(q.instance).toBe(victim.id);
    victim.proc.child.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.proc.exited;
    const survivor = c.instances.find((i) => i.id !== victim.id) as RunningCluster['instances'][number];
    await eventually('KILLD gone from the directory', async () => (await getJson(`${survivor.http}/api/rooms/KILLD`)).status === 404
      || (await getJson<Owner>(`${survivor.http}/api/rooms/KILLD`)).body.instance !== victim.id, 10_000);
    expect(Date.now() - killedAt).toBeLessThan((TTL_S + 1.5) * 1000);
    // The instance list is cached for up to a second on top of the TTL.
    await eventually('the dead instance gone from /api/instances', async () =>
      !(await getJson<{ instances: { id: string }[] }>(`${survivor.http}/api/instances`)).body.instances.some((i) => i.id === victim.id), 2000);
    // Both players come back by themselves into a fresh room of the same code on a live instance.
    for (const x of [p, q]) {
      await x.until(() => x.welcomes.length >= 2 && x.live, 'a welcome after the kill', 15_000);
      const w = x.welcomes.at(-1) as { instance: string; resumed: boolean };
      expect(w.resumed).toBe(false); // the seat died with its instance: a restarted room
      expect(w.instance).not.toBe(victim.id);
    }
    expect(p.instance).toBe(q.instance);
    expect(p.net.room).toBe('KILLD');
    await p.until(() => p.net.roster.size === 2, 'both in the reopened room', 5000);
  }, 40_000);
});
