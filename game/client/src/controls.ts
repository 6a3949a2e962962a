/**
 * Keyboard and mouse state, read from DOM events (layout-independent `code`s):
 * WASD / arrows move, Space or the left mouse button fires, the pointer aims.
 * Keys typed into a text field (chat, lobby) are not game input. Losing focus
 * releases everything, so a player never runs on after alt-tab.
 *
 * Watching (`watch`), nothing is game input: `buttons()` is always 0 and the pointer
 * never aims. WASD / arrows pan the camera instead (`pan()`), dragging the arena
 * moves it, and a click (a press that did not drag) names a point to follow.
 */
import { BTN_DOWN, BTN_FIRE, BTN_LEFT, BTN_RIGHT, BTN_UP } from '../../sim/constants.ts';
import type { PanInput } from './watchcam.ts';

const KEY_BUTTONS: Record<string, number> = {
  KeyW: BTN_UP, ArrowUp: BTN_UP, KeyS: BTN_DOWN, ArrowDown: BTN_DOWN,
  KeyA: BTN_LEFT, ArrowLeft: BTN_LEFT, KeyD: BTN_RIGHT, ArrowRight: BTN_RIGHT, Space: BTN_FIRE,
};

export interface ControlHandlers {
  toggleNetgraph: () => void;
  focusChat: () => void;
}

const DRAG_SLOP = 5; // CSS px a press may move and still be a click

export class Controls {
  private readonly held = new Set<string>();
  private mouseFire = false;
  /** Pointer position in canvas CSS pixels, or null before the mouse moved over it. */
  pointer: { x: number; y: number } | null = null;
  private readonly off: (() => void)[] = [];
  private readonly watch: boolean;
  /** Watching: the press in progress (CSS px), the drag not yet taken, and the last click. */
  private press: { x: number; y: number; dragging: boolean } | null = null;
  private dragX = 0;
  private dragY = 0;
  private click: { x: number; y: number } | null = null;

  constructor(private readonly canvasHost: HTMLElement, handlers: ControlHandlers, opts: { watch?: boolean } = {}) {
    this.watch = opts.watch === true;
    const typing = (e: Event) => {
      const t = e.target as HTMLElement | null;
      return !!t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
    };
    this.on(window, 'keydown', (e: KeyboardEvent) => {
      if (typing(e)) return;
      if (e.code === 'Enter' && !this.watch) {
        e.preventDefault();
        handlers.focusChat();
        return;
      }
      if (e.code === 'F3' || (e.code === 'KeyN' && !e.repeat)) {
        e.preventDefault();
        if (!e.repeat) handlers.toggleNetgraph();
        return;
      }
      if (e.code in KEY_BUTTONS) {
        e.preventDefault(); // arrows and Space would scroll
        this.held.add(e.code);
      }
    });
    this.on(window, 'keyup', (e: KeyboardEvent) => { this.held.delete(e.code); });
    this.on(window, 'blur', () => this.release());
    this.on(canvasHost, 'contextmenu', (e: Event) => e.preventDefault());
    if (this.watch) this.watchPointer(canvasHost);
    else this.aimPointer(canvasHost);
  }

  private aimPointer(canvasHost: HTMLElement): void {
    this.on(canvasHost, 'mousemove', (e: MouseEvent) => { this.pointer = this.local(e); });
    this.on(canvasHost, 'mousedown', (e: MouseEvent) => {
      if (e.button !== 0) return;
      (document.activeElement as HTMLElement | null)?.blur?.(); // clicking the arena leaves the chat box
      this.pointer = this.local(e);
      this.mouseFire = true;
    });
    this.on(window, 'mouseup', (e: MouseEvent) => { if (e.button === 0) this.mouseFire = false; });
  }

  /** Watching: pointer events (mouse and touch alike) drag the camera or click to follow. */
  private watchPointer(canvasHost: HTMLElement): void {
    this.on(canvasHost, 'pointerdown', (e: PointerEvent) => {
      if (e.button !== 0) return;
      (document.activeElement as HTMLElement | null)?.blur?.();
      const at = this.local(e);
      this.press = { x: at.x, y: at.y, dragging: false };
      canvasHost.setPointerCapture?.(e.pointerId);
    });
    this.on(canvasHost, 'pointermove', (e: PointerEvent) => {
      const p = this.press;
      if (!p) return;
      const at = this.local(e);
      if (!p.dragging && Math.hypot(at.x - p.x, at.y - p.y) < DRAG_SLOP) return;
      p.dragging = true;
      this.dragX += at.x - p.x;
      this.dragY += at.y - p.y;
      p.x = at.x;
      p.y = at.y;
    });
    const end = (e: PointerEvent) => {
      const p = this.press;
      this.press = null;
      if (p && !p.dragging && e.type === 'pointerup') this.click = { x: p.x, y: p.y };
    };
    this.on(canvasHost, 'pointerup', end);
    this.on(canvasHost, 'pointercancel', end);
  }

  /** Watching: the pan keys held and the drag since the last call (which it takes). */
  pan(): PanInput {
    let keyX = 0;
    let keyY = 0;
    for (const code of this.held) {
      const b = KEY_BUTTONS[code] ?? 0;
      if (b & BTN_LEFT) keyX -= 1;
      if (b & BTN_RIGHT) keyX += 1;
      if (b & BTN_UP) keyY -= 1;
      if (b & BTN_DOWN) keyY += 1;
    }
    const out = { keyX: Math.sign(keyX), keyY: Math.sign(keyY), dragX: this.dragX, dragY: this.dragY };
    this.dragX = this.dragY = 0;
    return out;
  }

  /** Watching: where the last click on the arena was (CSS px, canvas), once; null when none. */
  takeClick(): { x: number; y: number } | null {
    const c = this.click;
    this.click = null;
    return c;
  }

  /** Typing in the chat box: stop moving. */
  release(): void {
    this.held.clear();
    this.mouseFire = false;
    this.press = null;
  }

  /** The BTN_* bitmask of what is held now. */
  buttons(): number {
    if (this.watch) return 0; // a spectator's keys pan the camera; it sends no inputs
    let b = this.mouseFire ? BTN_FIRE : 0;
    for (const code of this.held) b |= KEY_BUTTONS[code] ?? 0;
    // Opposite directions cancel in the sim anyway; keep the mask honest.
    return b;
  }

  private local(e: MouseEvent): { x: number; y: number } {
    const r = this.canvasHost.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  private on<E extends Event>(target: EventTarget, type: string, f: (e: E) => void): void {
    const listener = f as EventListener;
    target.addEventListener(type, listener);
    this.off.push(() => target.removeEventListener(type, listener));
  }

  destroy(): void {
    for (const f of this.off) f();
    this.off.length = 0;
  }
}
