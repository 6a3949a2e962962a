/**
 * The local player: client-side prediction with reconciliation (netcode's
 * Predictor running the sim's own movePlayer), and shots drawn the moment they
 * are fired. The server stays the judge of hits (lag-compensated at the tick
 * we were looking at); a local tracer only shows what we asked for.
 *
 * Teleports are not corrections: a respawn, a new round or a fresh seat resets
 * the prediction to the server's position instead of counting a huge error.
 */
import { BTN_FIRE, FIRE_INTERVAL, SHOT_RANGE, SHOT_TTL } from '../../sim/constants.ts';
import { rayWall } from '../../sim/hitscan.ts';
import { aimToRadians, movePlayer } from '../../sim/movement.ts';
import type { Input } from '../../sim/state.ts';
import { Predictor, type Vec } from '../../../netcode/predict.ts';
import { RateMeter, SampleRing } from './metrics.ts';

export interface LocalShot {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  until: number; // ms, client clock
}

export interface OwnState {
  x: number;
  y: number;
  hp: number;
}

export class OwnPlayer {
  readonly predictor: Predictor<Input>;
  readonly shots: LocalShot[] = [];
  readonly correctionRate = new RateMeter(1000);
  readonly correctionSizes = new SampleRing(200);
  /** The next snapshot resets instead of reconciling (welcome, round start). */
  private resetPending = true;
  private alive = false;
  private cooldown = 0; // s, local estimate of the fire cooldown
  private readonly dt: number;

  constructor(tickRate: number) {
    this.dt = 1 / tickRate;
    this.predictor = new Predictor<Input>({
      dt: this.dt,
      step: (p: Vec, i: Input, dt: number) => movePlayer(p.x, p.y, i.buttons, dt),
    });
  }

  get predicting(): boolean {
    return this.alive && !this.resetPending;
  }

  /** A new socket was welcomed, or the round restarted: positions may have jumped. */
  expectTeleport(): void {
    this.resetPending = true;
  }

  /**
   * A snapshot arrived. `server` is our entity in it; `anchor` the position the
   * server reports as of lastSeq when it is guessing ahead (SNAPSHOT.own).
   */
  onSnapshot(server: OwnState | undefined, anchor: Vec | undefined, lastSeq: number, now: number): void {
    if (!server) return;
    const wasAlive = this.alive;
    this.alive = server.hp > 0;
    if (!this.alive) return;
    const at = anchor ?? { x: server.x, y: server.y };
    if (this.resetPending || !wasAlive) {
      // A teleport, not an error: start from the server's position and replay what is in flight.
      this.predictor.rebase(at, lastSeq, now);
      this.resetPending = false;
      return;
    }
    const u = this.predictor.reconcile(at, lastSeq, now);
    if (u > 0) {
      this.correctionRate.add(now);
      this.correctionSizes.add(u);
    }
  }

  /** One input, just sent with `seq`: predict it, and draw its shot if the gun is ready. */
  onInput(seq: number, input: Input, canFire: boolean, now: number): void {
    this.cooldown = Math.max(0, this.cooldown - this.dt);
    // Every input is recorded, even while a teleport is pending or we are dead: inputs in
    // flight then still count when the prediction is rebased to the server's position.
    this.predictor.apply(seq, input);
    if (!this.predicting) return;
    if (canFire && input.buttons & BTN_FIRE && this.cooldown <= 1e-9) {
      this.cooldown = FIRE_INTERVAL;
      const p = this.predictor.position;
      const a = aimToRadians(input.aim);
      const dx = Math.cos(a);
      const dy = Math.sin(a);
      const len = Math.min(SHOT_RANGE, rayWall(p.x, p.y, dx, dy));
      this.shots.push({ x1: p.x, y1: p.y, x2: p.x + dx * len, y2: p.y + dy * len, until: now + SHOT_TTL * 1000 + 50 });
    }
  }

  /** Where to draw us: the prediction with its fading correction, or null if not predicting. */
  renderPosition(now: number): Vec | null {
    return this.predicting ? this.predictor.renderPosition(now) : null;
  }

  /** Local tracers still visible at `now`. */
  liveShots(now: number): LocalShot[] {
    while (this.shots.length && this.shots[0].until <= now) this.shots.shift();
    return this.shots;
  }
}
