/**
 * The netgraph's figures (netgraph.ts) of a running match, read from its parts when asked:
 * the connection (ping, rates, transport), the interpolator, the prediction (none for a
 * spectator), and the frame costs. Pure reads: nothing here changes the match.
 */
import type { NetSimOptions } from '../../../netcode/netsim.ts';
import type { Match } from './match.ts';
import type { Figures } from './netgraph.ts';

export function matchFigures(m: Match, now: number): Figures {
  const s = m.session;
  const own = m.own;
  const view = m.view;
  const pred = own?.predictor.stats;
  const world = m.lastWorld;
  return {
    ping: s.clock.rtt,
    jitter: s.clock.jitter,
    snapshotRate: s.snapshotRate.rate(now),
    kbpsIn: (s.bytesIn.rate(now) * 8) / 1000,
    kbpsOut: (s.bytesOut.rate(now) * 8) / 1000,
    interpDelay: view?.interp.delay ?? 0,
    transit: view?.interp.transit ?? 0,
    bufferMs: view?.interp.bufferMs ?? 0,
    extrapolating: world?.extrapolating ?? false,
    corrections: own?.correctionRate.rate(now) ?? 0,
    correctionLast: pred?.lastCorrection ?? 0,
    correctionMax: pred?.maxCorrection ?? 0,
    correctionP99: own?.correctionSizes.quantile(0.99) ?? 0,
    pendingInputs: s.net.pending.length,
    fps: m.frames.rate(now),
    frameWorkMs: m.frameWork.mean(),
    frameWorkMsP95: m.frameWork.quantile(0.95),
    entities: world ? world.players.length + world.npcs.length + world.shots.length : 0,
    desyncs: s.net.stats.desyncs,
    sim: s.link.simulated && m.sim ? simText(m.sim) : '',
    instance: s.net.instance,
    redirects: s.target.redirects,
    moves: s.moves,
    transport: s.link.transport,
    spectator: m.spectator,
    watchers: s.net.watchers,
  };
}

function simText(o: NetSimOptions): string {
  return `lag ${o.latency} ms  jitter ${o.jitter ?? 0} ms  loss ${((o.loss ?? 0) * 100).toFixed(1)} %`;
}
