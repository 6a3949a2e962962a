/**
 * On-screen controls for touch devices: a left stick moves (8 directions, as
 * the keyboard would), a right stick aims and fires while pushed past half way,
 * and a fire button fires toward the last aim (or the way you walk). Shown on a
 * coarse pointer or at the first touch. A spectator has none (`enabled: false`): it
 * sends no inputs, and its camera is dragged on the arena itself (controls.ts).
 */
import { BTN_DOWN, BTN_LEFT, BTN_RIGHT, BTN_UP } from '../../sim/constants.ts';
import { byId } from './dom.ts';

interface Stick {
  base: HTMLElement;
  knob: HTMLElement;
  touch: number | null; // pointerId
  dx: number; // -1..1
  dy: number;
}

const DEAD = 0.25; // stick travel ignored around the centre
const AIM_FIRE = 0.5; // right stick pushed this far fires

export class TouchControls {
  private readonly root = byId('touch');
  private readonly move: Stick;
  private readonly aimStick: Stick;
  private fireHeld = false;
  /** The last aim direction (radians), kept when the sticks are released. */
  private lastAim: number | null = null;
  /** Removes this match's listeners: the elements (index.html) are reused by the next match. */
  private readonly listeners = new AbortController();
  active = false;

  constructor(opts: { enabled?: boolean } = {}) {
    const signal = this.listeners.signal;
    const stick = (name: string): Stick => {
      const base = this.root.querySelector<HTMLElement>(`[data-stick="${name}"]`)!;
      return { base, knob: base.querySelector<HTMLElement>('.knob')!, touch: null, dx: 0, dy: 0 };
    };
    this.move = stick('move');
    this.aimStick = stick('aim');
    for (const s of [this.move, this.aimStick]) this.bindStick(s, signal);
    const fire = this.root.querySelector<HTMLButtonElement>('.fire')!;
    fire.classList.remove('down');
    fire.addEventListener('pointerdown', (e) => { e.preventDefault(); this.fireHeld = true; fire.classList.add('down'); }, { signal });
    const up = () => { this.fireHeld = false; fire.classList.remove('down'); };
    fire.addEventListener('pointerup', up, { signal });
    fire.addEventListener('pointercancel', up, { signal });
    if (opts.enabled === false) {
      this.root.hidden = true; // an earlier match on a touch device showed them
      return;
    }
    // An earlier match may already have seen a touch (the class outlives it).
    if (matchMedia('(pointer: coarse)').matches || document.body.classList.contains('touch-device')) this.enable();
    else window.addEventListener('touchstart', () => this.enable(), { once: true, passive: true, signal });
  }

  /** Removes the listeners and recentres the sticks; the page keeps the touch-device look. */
  destroy(): void {
    this.listeners.abort();
    this.active = false;
    this.fireHeld = false;
    for (const s of [this.move, this.aimStick]) {
      if (s.touch !== null && s.base.hasPointerCapture(s.touch)) s.base.releasePointerCapture(s.touch);
      s.touch = null;
      s.dx = s.dy = 0;
      s.knob.style.transform = '';
    }
  }

  private enable(): void {
    this.active = true;
    this.root.hidden = false;
    document.body.classList.add('touch-device');
    document.getElementById('chat-input')?.setAttribute('placeholder', 'Tap to chat');
  }

  private bindStick(s: Stick, signal: AbortSignal): void {
    const update = (e: PointerEvent) => {
      const r = s.base.getBoundingClientRect();
      const half = r.width / 2;
      let dx = (e.clientX - (r.left + half)) / half;
      let dy = (e.clientY - (r.top + half)) / half;
      const len = Math.hypot(dx, dy);
      if (len > 1) { dx /= len; dy /= len; }
      s.dx = dx;
      s.dy = dy;
      s.knob.style.transform = `translate(${dx * half * 0.6}px, ${dy * half * 0.6}px)`;
    };
    s.base.addEventListener('pointerdown', (e) => {
      e.preventDefault();
      s.touch = e.pointerId;
      s.base.setPointerCapture(e.pointerId);
      update(e);
    }, { signal });
    s.base.addEventListener('pointermove', (e) => { if (e.pointerId === s.touch) update(e); }, { signal });
    const end = (e: PointerEvent) => {
      if (e.pointerId !== s.touch) return;
      s.touch = null;
      s.dx = s.dy = 0;
      s.knob.style.transform = '';
    };
    s.base.addEventListener('pointerup', end, { signal });
    s.base.addEventListener('pointercancel', end, { signal });
  }

  /** Movement buttons from the left stick (8-way, like keys). */
  buttons(): number {
    const { dx, dy } = this.move;
    if (Math.hypot(dx, dy) < DEAD) return 0;
    let b = 0;
    const a = Math.atan2(dy, dx); // screen axes: +y down
    const oct = Math.round(a / (Math.PI / 4)); // -4..4
    const dirs = [BTN_LEFT, BTN_LEFT | BTN_UP, BTN_UP, BTN_UP | BTN_RIGHT, BTN_RIGHT, BTN_RIGHT | BTN_DOWN, BTN_DOWN, BTN_DOWN | BTN_LEFT, BTN_LEFT];
    b |= dirs[oct + 4];
    return b;
  }

  /** Aim in radians: the right stick, else the way the left stick points, else the last aim; null if never set. */
  aim(): number | null {
    const a = this.aimStick;
    if (Math.hypot(a.dx, a.dy) >= DEAD) this.lastAim = Math.atan2(a.dy, a.dx);
    else if (Math.hypot(this.move.dx, this.move.dy) >= DEAD) this.lastAim = Math.atan2(this.move.dy, this.move.dx);
    return this.lastAim;
  }

  fire(): boolean {
    return this.fireHeld || Math.hypot(this.aimStick.dx, this.aimStick.dy) >= AIM_FIRE;
  }
}
