/**
 * End to end on virtual time: the REAL Room (server/room.ts) and a client made
 * of NetClient + ServerClock + Interpolator + Predictor, joined by a NetSim in
 * each direction (MemLink toward the client). One loop, 1 ms steps: the room
 * steps every 1000/30 ms; the client sends one input per tick on its own jittered
 * cadence with scripted WASD changes, pings twice a second, renders every 16 ms,
 * and reconciles on every snapshot from `own ?? its entity in the frame`.
 *
 * The client's clock reads the server's plus a large offset, so the ServerClock
 * really has to find it.
 */
import { describe, expect, it } from 'vitest';
import { BTN_DOWN, BTN_LEFT, BTN_RIGHT, BTN_UP, type Input, movePlayer } from '../game/sim/index.ts';
import { ARENA_SCHEMA } from '../game/sim/netschema.ts';
import { NetClient } from '../netcode/client.ts';
import { ServerClock } from '../netcode/clock.ts';
import { findIndex, frameEntity, type Frame } from '../netcode/frame.ts';
import { Interpolator } from '../netcode/interpolate.ts';
import { mulberry32, NetSim } from '../netcode/netsim.ts';
import { Predictor, type Vec } from '../netcode/predict.ts';
import { defaultConfig } from '../server/config.ts';
import { Room } from '../server/room.ts';
import { MemoryChannel } from '../server/transport.ts';
import { MemLink } from './helpers/memlink.ts';

const CLIENT_CLOCK_OFFSET = 987_654.3; // ms: client time = server time + this
const MOVES = [0, BTN_UP, BTN_DOWN, BTN_LEFT, BTN_RIGHT, BTN_UP | BTN_LEFT, BTN_UP | BTN_RIGHT, BTN_DOWN | BTN_LEFT, BTN_DOWN | BTN_RIGHT];

interface Run {
  corrections: number[]; // one per reconcile, u
  stats: Predictor<Input>['stats'];
  snapshots: number;
  desyncs: number;
  ownAnchors: number; // snapshots that carried `own` (the server was guessing)
  inputsSent: number;
  lastSeqAcked: number;
  travelled: number; // u, sum of the predicted steps
  delays: number[]; // interpolation delay per frame, ms
  frames: number;
  extrapolated: number;
  clockErr: number[]; // |serverNow estimate − room time| at each pong, ms
  interp: Interpolator;
  closed: { code: number; reason: string } | null;
}

function ownPos(frame: Frame, id: number): Vec {
  const i = findIndex(frame, id);
  if (i < 0) throw new Error(`own player ${id} not in snapshot ${frame.tick}`);
  const e = frameEntity(ARENA_SCHEMA, frame, i).obj;
  return { x: e.x, y: e.y };
}

interface PlayOptions {
  latency: number; // ms one-way, both directions
  jitter: number; // ms ±
  loss?: number;
  seconds: number;
  seed: number;
  /** Client input period as a multiple of the tick (a client clock running slow > 1) and its jitter (ms ±). */
  cadence?: { scale: number; jitter: number };
}

function play(opts: PlayOptions): Run {
  const cfg = { ...defaultConfig(), npcCount: 10 };
  const period = 1000 / cfg.tickRate;
  const channel = new MemoryChannel();
  const room = new Room({ code: 'TESTS', config: cfg, now: 0, seed: 1, channel });
  let now = 0; // server ms
  const sim = { latency: opts.latency, jitter: opts.jitter, loss: opts.loss ?? 0 };
  const cadence = opts.cadence ?? { scale: 1, jitter: 3 };
  const link = new MemLink({ ...sim, seed: opts.seed * 2 + 1 }, () => now, channel);
  const up = new NetSim<Uint8Array>({ ...sim, seed: opts.seed * 2 + 2 });
  const member = room.connect('sid-e2e', 'tester', link, now);
  if (!member) throw new Error('room refused');

  const rnd = mulberry32(opts.seed);
  const net = new NetClient(ARENA_SCHEMA);
  const clock = new ServerClock();
  const interp = new Interpolator({ period });
  const pred = new Predictor<Input>({ dt: 1 / cfg.tickRate, step: (p, i, dt) => movePlayer(p.x, p.y, i.buttons, dt) });
  const held: number[] = [];
  const run: Run = {
    corrections: [],
    stats: pred.stats,
    snapshots: 0,
    desyncs: 0,
    ownAnchors: 0,
    inputsSent: 0,
    lastSeqAcked: 0,
    travelled: 0,
    delays: [],
    frames: 0,
    extrapolated: 0,
    clockErr: [],
    interp,
    closed: null,
  };
  const send = (bytes: Uint8Array) => up.send(bytes, now, bytes.byteLength);
  send(net.hello());

  let nextTick = period;
  let started = false;
  let inputK = 0;
  let inputBase = 0;
  let nextInput = Infinity;
  let nextPing = 0;
  let nextMove = 0;
  let buttons = 0;
  let viewTick = 0;
  const end = opts.seconds * 1000;
  for (now = 0; now <= end; now++) {
    const cnow = now + CLIENT_CLOCK_OFFSET;
    // Server: what arrived, then the tick if due.
    for (const b of up.poll(now)) room.receive(member, b, now);
    while (now >= nextTick) {
      room.step(now);
      nextTick += period;
    }
    // Client: what arrived.
    for (const b of link.toClient.poll(now)) {
      const ev = net.receive(b, cnow);
      if (ev.kind === 'pong') {
        clock.sample(ev.clientTime, ev.serverTime, cnow);
        if (clock.ready) run.clockErr.push(Math.abs(clock.serverNow(cnow) - room.roomTime(now)));
      } else if (ev.kind === 'bad') {
        run.desyncs++;
      } else if (ev.kind === 'snapshot') {
        const snap = ev.snap;
        run.snapshots++;
        held.push(snap.tick);
        if (held.length > 32) held.shift();
        if (clock.ready) interp.onSnapshot(snap.tick, cnow, clock.serverNow(cnow));
        const me = ownPos(snap.frame, net.playerId);
        if (!started) {
          pred.reset(me, cnow);
          started = true;
          inputBase = now + 7; // the client's input cadence is offset from the server's tick
          nextInput = inputBase;
        } else {
          if (snap.own) run.ownAnchors++;
          run.corrections.push(pred.reconcile(snap.own ?? me, snap.lastSeq, cnow));
        }
      }
    }
    // Client: scripted WASD, one input per tick on a jittered cadence of the same mean rate.
    if (now >= nextMove) {
      buttons = MOVES[Math.floor(rnd() * MOVES.length)];
      nextMove = now + 300 + rnd() * 600;
    }
    if (now >= nextInput) {
      const input: Input = { buttons, aim: 0 };
      const before = pred.position;
      const { seq, bytes } = net.input(input, viewTick, cnow);
      pred.apply(seq, input);
      run.travelled += Math.hypot(pred.position.x - before.x, pred.position.y - before.y);
      run.inputsSent++;
      send(bytes);
      inputK++;
      nextInput = inputBase + inputK * period * cadence.scale + (rnd() * 2 - 1) * cadence.jitter;
    }
    if (now >= nextPing) {
      send(net.ping(cnow));
      nextPing = now + (clock.ready ? 500 : 100);
    }
    // Client: a render frame every 16 ms.
    if (now % 16 === 0 && clock.ready && held.length) {
      const rt = interp.renderTick(clock.serverNow(cnow));
      const b = interp.bracket(rt, held);
      viewTick = Math.max(0, Math.floor(rt));
      run.frames++;
      run.delays.push(interp.delay);
      if (b?.extrapolating) run.extrapolated++;
    }
  }
  run.lastSeqAcked = net.lastSeqAcked;
  run.closed = link.closed;
  return run;
}

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : 0;
}

function report(name: string, r: Run): string {
  const nonzero = r.corrections.filter((d) => d > 1e-9);
  return (
    `${name}: snapshots ${r.snapshots}, inputs ${r.inputsSent} (acked ${r.lastSeqAcked}), own anchors ${r.ownAnchors}, ` +
    `travelled ${r.travelled.toFixed(0)} u; corrections ${nonzero.length}, p99 ${percentile(r.corrections, 99).toFixed(3)} u, ` +
    `max ${Math.max(0, ...r.corrections).toFixed(3)} u; interp delay final ${r.interp.delay.toFixed(1)} ms ` +
    `(min ${Math.min(...r.delays).toFixed(1)}, max ${Math.max(...r.delays).toFixed(1)}), transit ${r.interp.transit.toFixed(1)} ms, ` +
    `extrapolated ${r.extrapolated}/${r.frames} frames; clock error max ${Math.max(...r.clockErr.slice(3)).toFixed(2)} ms`
  );
}

function common(r: Run, maxExtrapolated = 0.02): void {
  expect(r.closed).toBeNull();
  expect(r.desyncs).toBe(0);
  expect(r.snapshots).toBeGreaterThan(840); // ~30 per second for 30 s
  expect(r.corrections.length).toBe(r.snapshots - 1);
  expect(r.travelled).toBeGreaterThan(2000); // it really moved (and met walls)
  expect(r.inputsSent - r.lastSeqAcked).toBeLessThan(10); // the server applied everything but the last few
  // (c) the interpolation delay adapts within its bounds
  for (const d of r.delays) {
    expect(d).toBeGreaterThanOrEqual(r.interp.minDelay - 1e-9);
    expect(d).toBeLessThanOrEqual(r.interp.maxDelay);
  }
  expect(r.extrapolated / r.frames).toBeLessThan(maxExtrapolated);
}

describe('prediction end to end against the real Room', () => {
  it('(a) perfect link: zero corrections over 30 s of play', () => {
    const r = play({ latency: 3, jitter: 0, seconds: 30, seed: 1 });
    console.log(report('perfect link (3 ms, no jitter)', r));
    common(r);
    expect(r.stats.corrections).toBe(0);
    expect(Math.max(...r.corrections)).toBe(0);
    expect(r.interp.delay).toBeLessThan(2.5 * r.interp.period);
    expect(Math.max(...r.clockErr.slice(3))).toBeLessThan(3);
  });

  it('(b) 100 ms RTT, 20 ms jitter: corrections p99 ≤ 1 u; (c) delay adapts and stays bounded', () => {
    const r = play({ latency: 50, jitter: 10, seconds: 30, seed: 2 });
    console.log(report('50 ms one-way ± 10 ms', r));
    common(r);
    expect(percentile(r.corrections, 99)).toBeLessThanOrEqual(1);
    expect(r.interp.transit).toBeGreaterThan(35);
    expect(r.interp.transit).toBeLessThan(70);
    expect(r.interp.delay).toBeLessThan(4 * r.interp.period);
    expect(Math.max(...r.clockErr.slice(3))).toBeLessThan(15);
  });

  it('perfect link, client cadence 0.5 % slow with ±8 ms jitter: the server guesses, the own anchor keeps it exact', () => {
    const r = play({ latency: 2, jitter: 0, seconds: 30, seed: 3, cadence: { scale: 1.005, jitter: 8 } });
    console.log(report('perfect link, drifting client', r));
    common(r);
    expect(r.ownAnchors).toBeGreaterThan(50); // the guess path really ran
    expect(r.stats.corrections).toBe(0);
  });

  it('(c) 50 ms ± 40 ms with 1 % loss: the delay grows above its floor, stays bounded, corrections stay ≤ 1 u at p99', () => {
    const r = play({ latency: 50, jitter: 40, loss: 0.01, seconds: 30, seed: 4 });
    console.log(report('50 ms ± 40 ms, 1 % loss', r));
    common(r, 0.1);
    expect(Math.max(...r.delays)).toBeGreaterThan(r.interp.minDelay + 10);
    expect(r.interp.delay).toBeLessThan(200);
    expect(percentile(r.corrections, 99)).toBeLessThanOrEqual(1);
  });
});
