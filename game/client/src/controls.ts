/**
 * Keyboard and mouse state, read from DOM events (layout-independent `code`s):
 * WASD / arrows move, Space or the left mouse button fires, the pointer aims.
 * Keys typed into a text field (chat, lobby) are not game input. Losing focus
 * releases everything, so a player never runs on after alt-tab.
 */
import { BTN_DOWN, BTN_FIRE, BTN_LEFT, BTN_RIGHT, BTN_UP } from '../../sim/constants.ts';

const KEY_BUTTONS: Record<string, number> = {
  KeyW: BTN_UP, ArrowUp: BTN_UP, KeyS: BTN_DOWN, ArrowDown: BTN_DOWN,
  KeyA: BTN_LEFT, ArrowLeft: BTN_LEFT, KeyD: BTN_RIGHT, ArrowRight: BTN_RIGHT, Space: BTN_FIRE,
};

export interface ControlHandlers {
  toggleNetgraph: () => void;
  focusChat: () => void;
}

export class Controls {
  private readonly held = new Set<string>();
  private mouseFire = false;
  /** Pointer position in canvas CSS pixels, or null before the mouse moved over it. */
  pointer: { x: number; y: number } | null = null;
  private readonly off: (() => void)[] = [];

  constructor(private readonly canvasHost: HTMLElement, handlers: ControlHandlers) {
    const typing = (e: Event) => {
      const t = e.target as HTMLElement | null;
      return !!t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
    };
    this.on(window, 'keydown', (e: KeyboardEvent) => {
      if (typing(e)) return;
      if (e.code === 'Enter') {
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
    this.on(canvasHost, 'mousemove', (e: MouseEvent) => { this.pointer = this.local(e); });
    this.on(canvasHost, 'mousedown', (e: MouseEvent) => {
      if (e.button !== 0) return;
      (document.activeElement as HTMLElement | null)?.blur?.(); // clicking the arena leaves the chat box
      this.pointer = this.local(e);
      this.mouseFire = true;
    });
    this.on(window, 'mouseup', (e: MouseEvent) => { if (e.button === 0) this.mouseFire = false; });
    this.on(canvasHost, 'contextmenu', (e: Event) => e.preventDefault());
  }

  /** Typing in the chat box: stop moving. */
  release(): void {
    this.held.clear();
    this.mouseFire = false;
  }

  /** The BTN_* bitmask of what is held now. */
  buttons(): number {
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
