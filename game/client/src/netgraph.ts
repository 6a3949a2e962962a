/**
 * The netgraph overlay (N or F3): the connection's and the client's vital
 * signs, as text. The same figures are published at window.tickwire.
 */
import { byId, show } from './dom.ts';

export interface Figures {
  ping: number; // ms, median RTT
  jitter: number; // ms, RTT mean deviation
  snapshotRate: number; // per second
  kbpsIn: number;
  kbpsOut: number;
  interpDelay: number; // ms of interpolation delay (beyond transit)
  transit: number; // ms, typical snapshot arrival lag
  bufferMs: number; // ms of snapshots ahead of render time (negative: starving)
  extrapolating: boolean;
  corrections: number; // prediction corrections per second
  correctionLast: number; // u
  correctionMax: number; // u
  correctionP99: number; // u, over recent corrections
  pendingInputs: number;
  fps: number;
  frameWorkMs: number; // mean, ms: netcode + scene update per frame
  frameWorkMsP95: number;
  entities: number;
  desyncs: number;
  sim: string; // network simulator settings, '' when off
  instance: string; // the server instance holding the room, from WELCOME ('' standalone)
  redirects: number; // REDIRECTs and MOVEs followed in this match
  moves: number; // of those, MOVEs (the room went to another instance with our seat)
  // Optional, as 'ws', false and 0, for figures made before spectators and SSE:
  transport?: 'ws' | 'sse'; // of the current connection: WebSocket, or the Server-Sent-Events fallback
  spectator?: boolean; // watching without a seat: no prediction, no inputs
  watchers?: number; // the room's spectators
}

const f1 = (v: number) => v.toFixed(1);
const f0 = (v: number) => v.toFixed(0);

export function formatFigures(f: Figures): string {
  const buffer = f.bufferMs < 0 ? `${f0(f.bufferMs)} ms STARVED` : `${f0(f.bufferMs)} ms`;
  const redirects = (f.redirects ? `   redirects ${f.redirects}` : '') + (f.moves ? `   moves ${f.moves}` : '');
  const who = (f.spectator ? '   spectating' : '') + (f.watchers ? `   ${f.watchers} watching` : '');
  return [
    `server    ${f.instance || 'standalone'}${redirects}`,
    `transport ${f.transport ?? 'ws'}${who}`,
    `ping      ${f0(f.ping)} ms  ± ${f1(f.jitter)}`,
    `snapshots ${f0(f.snapshotRate)}/s  ${f.entities} entities`,
    `in / out  ${f1(f.kbpsIn)} / ${f1(f.kbpsOut)} kbps`,
    `interp    ${f0(f.interpDelay)} ms delay + ${f0(f.transit)} transit`,
    `buffer    ${buffer}${f.extrapolating ? '  extrapolating' : ''}`,
    f.spectator ? 'predict   none (spectating: everyone interpolated)'
      : `predict   ${f1(f.corrections)} corr/s  last ${f1(f.correctionLast)} u  p99 ${f1(f.correctionP99)}  max ${f1(f.correctionMax)}`,
    `inputs    ${f.pendingInputs} unacked   desyncs ${f.desyncs}`,
    `fps       ${f0(f.fps)}   work ${f1(f.frameWorkMs)} ms  p95 ${f1(f.frameWorkMsP95)}`,
    f.sim ? `netsim    ${f.sim}` : 'netsim    off (?lag=100&jitter=20&loss=0.02)',
  ].join('\n');
}

export class NetGraph {
  private readonly el = byId('netgraph');
  private shownAt = -Infinity;
  visible = false;

  /** The element (index.html) outlives a match: start hidden and empty, as `visible` says. */
  constructor() {
    this.reset();
  }

  destroy(): void {
    this.reset();
  }

  private reset(): void {
    this.visible = false;
    this.shownAt = -Infinity;
    show(this.el, false);
    this.el.textContent = '';
  }

  toggle(): void {
    this.visible = !this.visible;
    show(this.el, this.visible);
    this.shownAt = -Infinity;
  }

  /** Redraws at most 5 times a second (it is text in the DOM). */
  update(now: number, figures: () => Figures): void {
    if (!this.visible || now - this.shownAt < 200) return;
    this.shownAt = now;
    const text = formatFigures(figures());
    if (text !== this.el.textContent) this.el.textContent = text;
  }
}
