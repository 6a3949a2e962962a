/** The cluster's pure parts: client addresses behind a proxy, instance records and placement, bus messages, config, the nginx file. */
import { describe, expect, it } from 'vitest';
import { parseBus, parseKickTarget } from '../server/cluster/bus.ts';
import { type InstanceRecord, parseRecord, pickInstance, wsEndpoint } from '../server/cluster/records.ts';
import { loadConfig } from '../server/config.ts';
import { renderNginxConf } from '../server/deploy/nginx.ts';
import { normalizeAddress, TrustedProxies } from '../server/proxy.ts';

const record = (id: string, over: Partial<InstanceRecord> = {}): InstanceRecord => ({
  id, url: `http://front/i/${id}`, ws: `ws://front/i/${id}/ws`, boot: 'b00t', startedAt: 1, at: 2, rooms: [], players: 0,
  connected: 0, maxRooms: 500, cpuS: 0, rssMb: 50, draining: false, ...over,
});

describe('client address behind a proxy', () => {
  const proxies = new TrustedProxies(['127.0.0.1', '10.0.0.0/8', '::1']);

  it('believes X-Forwarded-For only from a trusted peer, back to the first untrusted hop', () => {
    expect(proxies.clientAddress('127.0.0.1', '203.0.113.7')).toBe('203.0.113.7');
    // A client that forges the header: nginx appends the address it saw, which is the client.
    expect(proxies.clientAddress('127.0.0.1', '1.2.3.4, 198.51.100.9')).toBe('198.51.100.9');
    // Two proxies of ours in a row.
    expect(proxies.clientAddress('10.1.2.3', '198.51.100.9, 10.9.9.9')).toBe('198.51.100.9');
    // Not from a proxy: the header is anybody's word.
    expect(proxies.clientAddress('198.51.100.20', '1.2.3.4')).toBe('198.51.100.20');
    // Garbage in the chain stops the walk at the last address a trusted proxy vouched for.
    expect(proxies.clientAddress('127.0.0.1', 'evil, 10.0.0.2')).toBe('10.0.0.2');
    expect(proxies.clientAddress('127.0.0.1', '')).toBe('127.0.0.1');
    expect(new TrustedProxies([]).clientAddress('127.0.0.1', '1.2.3.4')).toBe('127.0.0.1');
  });

  it('reads the IPv4-mapped forms uWS writes', () => {
    expect(normalizeAddress('0000:0000:0000:0000:0000:ffff:7f00:0001')).toBe('127.0.0.1');
    expect(normalizeAddress('::ffff:10.0.0.5')).toBe('10.0.0.5');
    expect(normalizeAddress('[::1]')).toBe('::1');
    expect(proxies.trusts('0000:0000:0000:0000:0000:ffff:0a01:0203')).toBe(true);
  });
});

describe('instance records and placement', () => {
  it('round-trips a record and refuses what is not one', () => {
    const r = record('a', { rooms: [['ABCDE', 3, 2, 16]] });
    expect(parseRecord(JSON.stringify(r))).toEqual(r);
    expect(parseRecord(null)).toBeNull();
    expect(parseRecord('{"id":"a"}')).toBeNull();
    expect(parseRecord(JSON.stringify({ ...r, rooms: [['abcde', 1, 1, 16]] }))).toBeNull();
    expect(parseRecord('not json')).toBeNull();
  });

  it('derives the WebSocket endpoint from the public URL', () => {
    expect(wsEndpoint('https://play.example.com/i/a')).toBe('wss://play.example.com/i/a/ws');
    expect(wsEndpoint('http://127.0.0.1:8081')).toBe('ws://127.0.0.1:8081/ws');
  });

  it('places a room on the least-loaded instance that has room for it', () => {
    const busy = record('a', { connected: 40, rooms: [['AAAAA', 16, 16, 16], ['BBBBB', 16, 16, 16], ['CCCCC', 8, 8, 16]] });
    const idle = record('b', { connected: 2, rooms: [['DDDDD', 2, 2, 16]] });
    const full = record('c', { maxRooms: 1, rooms: [['EEEEE', 0, 0, 16]] });
    expect(pickInstance([busy, idle, full], 'NEWRM', new Map(), 16)?.id).toBe('b');
    expect(pickInstance([full], 'NEWRM', new Map(), 16)).toBeNull();
  });

  it('spreads a burst of new rooms over equally loaded instances, counting what it placed since the records were read', () => {
    const records = ['a', 'b', 'c'].map((id) => record(id));
    const placed = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const r = pickInstance(records, `B${String.fromCharCode(65 + (i % 26))}XYZ`, placed, 16) as InstanceRecord;
      placed.set(r.id, (placed.get(r.id) ?? 0) + 1);
    }
    expect([...placed.values()].sort()).toEqual([10, 10, 10]);
    // With nothing placed yet, ties fall by code: different codes land on different instances.
    const firsts = new Set(Array.from({ length: 20 }, (_, i) => pickInstance(records, `T${String.fromCharCode(65 + i)}AAA`, new Map(), 16)?.id));
    expect(firsts.size).toBe(3);
  });
});

describe('bus messages', () => {
  it('accepts the three kinds and cleans their text', () => {
    expect(parseBus(JSON.stringify({ v: 1, type: 'announce', from: 'a', text: ' hi\u0007 all ' }))).toEqual({ v: 1, type: 'announce', from: 'a', text: 'hi all' });
    const kick = { v: 1, type: 'kick', from: 'a', req: 'r1', target: { room: 'ABCDE', id: 3 }, reason: 'spam' };
    expect(parseBus(JSON.stringify(kick))).toEqual(kick);
    const answer = { v: 1, type: 'kicked', from: 'b', req: 'r1', to: 'a', kicked: [{ instance: 'b', room: 'ABCDE', id: 3, name: 'Eve' }] };
    expect(parseBus(JSON.stringify(answer))).toEqual(answer);
  });

  it('drops anything else', () => {
    for (const raw of ['', 'null', '[]', '{"v":2,"type":"announce","from":"a","text":"x"}', '{"v":1,"type":"announce","from":"a","text":"   "}',
      '{"v":1,"type":"kick","from":"a","req":"r","target":{"room":"abc","id":1},"reason":""}', '{"v":1,"type":"nuke","from":"a"}']) {
      expect(parseBus(raw), raw).toBeNull();
    }
  });

  it('accepts a room close and its answer, and drops malformed ones', () => {
    const close = { v: 1, type: 'close', from: 'a', req: 'r2', room: 'ABCDE', reason: ' spam\u0007 room ' };
    expect(parseBus(JSON.stringify(close))).toEqual({ ...close, reason: 'spam room' });
    const answer = { v: 1, type: 'closed', from: 'b', req: 'r2', to: 'a', room: 'ABCDE', held: true, players: 3 };
    expect(parseBus(JSON.stringify(answer))).toEqual(answer);
    expect(parseBus(JSON.stringify({ ...answer, held: false, players: 0 }))).toEqual({ ...answer, held: false, players: 0 });
    for (const bad of [
      { ...close, room: 'abcde' }, { ...close, room: 'ABCDEF' }, { ...close, req: '' }, { ...close, req: 'r'.repeat(65) },
      { ...close, reason: 7 }, { ...close, from: '' }, { ...close, v: 2 }, { ...close, room: undefined },
      { ...answer, held: 'yes' }, { ...answer, players: -1 }, { ...answer, players: 1.5 }, { ...answer, players: '3' },
      { ...answer, to: undefined }, { ...answer, to: 'x'.repeat(33) }, { ...answer, room: 'ABC' }, { ...answer, req: 5 },
    ]) {
      expect(parseBus(JSON.stringify(bad)), JSON.stringify(bad)).toBeNull();
    }
  });

  it('reads a kick target from the admin API body, or says what is wrong', () => {
    expect(parseKickTarget({ player: 'sid123' })).toEqual({ sid: 'sid123' });
    expect(parseKickTarget({ room: 'ABCDE', id: 2 })).toEqual({ room: 'ABCDE', id: 2 });
    expect(parseKickTarget({ room: 'ABCDE' })).toMatch(/id must be/);
    expect(parseKickTarget({})).toMatch(/room must be/);
  });
});

describe('cluster settings', () => {
  it('reads REDIS_URL, INSTANCE_ID, PUBLIC_URL, TRUSTED_PROXIES and the heartbeat', () => {
    const c = loadConfig({
      REDIS_URL: 'redis://127.0.0.1:6379', INSTANCE_ID: 'eu-1', PUBLIC_URL: 'https://play.example.com/i/eu-1/', TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8',
      CLUSTER_HEARTBEAT_S: '1', CLUSTER_TTL_S: '4', ADMIN_TOKEN: 'a-long-enough-token',
    });
    expect(c).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379', instanceId: 'eu-1', publicUrl: 'https://play.example.com/i/eu-1', trustedProxies: ['127.0.0.1', '10.0.0.0/8'],
      clusterHeartbeatS: 1, clusterTtlS: 4,
    });
    expect(loadConfig({}).redisUrl).toBe('');
  });

  it('refuses bad values with a line naming the variable', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ REDIS_URL: 'http://x' }, /REDIS_URL must start with redis:\/\/ or rediss:\/\//],
      [{ INSTANCE_ID: 'Bad Id' }, /INSTANCE_ID must be/],
      [{ PUBLIC_URL: 'ftp://x' }, /PUBLIC_URL must start with http/],
      [{ PUBLIC_URL: 'http://x/?a=1' }, /PUBLIC_URL must not have a query/],
      [{ TRUSTED_PROXIES: '127.0.0.1,nope' }, /TRUSTED_PROXIES: "nope" is not an IP address/],
      [{ TRUSTED_PROXIES: '10.0.0.0/33' }, /TRUSTED_PROXIES/],
      [{ CLUSTER_HEARTBEAT_S: '2', CLUSTER_TTL_S: '3' }, /CLUSTER_TTL_S \(3\) must be at least twice/],
      [{ CLUSTER_TTL_S: '10' }, /CLUSTER_TTL_S must be a number in \[0.5, 6\]/],
      [{ ADMIN_TOKEN: 'short' }, /ADMIN_TOKEN must be at least 16/],
    ];
    for (const [env, msg] of bad) expect(() => loadConfig(env), JSON.stringify(env)).toThrow(msg);
  });
});

describe('the nginx file', () => {
  const site = { listen: '127.0.0.1:8080', clientDir: '/srv/tw/dist/client', runDir: '/tmp/tw-nginx', instances: [{ id: 'a', address: '127.0.0.1:8081' }, { id: 'b', address: '10.0.0.2:8080' }] };

  it('fills in every field: one upstream per instance, one with them all, the known ids', () => {
    const conf = renderNginxConf(site);
    expect(conf).not.toMatch(/\{\{\w+\}\}/);
    expect(conf).toContain('listen 127.0.0.1:8080;');
    expect(conf).toContain('root /srv/tw/dist/client;');
    expect(conf).toContain('pid /tmp/tw-nginx/nginx.pid;');
    expect(conf).toMatch(/upstream tickwire_any \{\s+server 127\.0\.0\.1:8081 [^;]*;\s+server 10\.0\.0\.2:8080 [^;]*;/);
    expect(conf).toMatch(/upstream tickwire_i_b \{\s+server 10\.0\.0\.2:8080;/);
    expect(conf).toMatch(/map \$instance \$tickwire_known \{\s+default 0;\s+a 1;\s+b 1;/);
    expect(conf).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(conf).toMatch(/proxy_read_timeout 60s;/);
  });

  it('refuses ids nginx or Redis could not carry, and addresses without a port', () => {
    expect(() => renderNginxConf({ ...site, instances: [{ id: 'A B', address: '1.2.3.4:1' }] })).toThrow(/not a valid INSTANCE_ID/);
    expect(() => renderNginxConf({ ...site, instances: [{ id: 'a', address: 'host' }] })).toThrow(/host:port/);
    expect(() => renderNginxConf({ ...site, instances: [] })).toThrow(/at least one/);
  });
});
