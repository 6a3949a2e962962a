/**
 * Watch mode's overlay and camera (a spectator's match, `#/r/CODE/watch`): the banner
 * "Watching room CODE · N watching" with a Join button and the camera choice (the
 * leader, a player, or the free camera), and the scene's camera hook. Its elements
 * live in index.html (#watch) and outlive it: `destroy()` lets go of them.
 *
 * The camera itself is watchcam.ts (pure; the replay viewer uses it too); this feeds it the frame's players, the pan
 * keys and drags of Controls (in watch mode), and turns a click into a world point.
 */
import { byId, el, show } from './dom.ts';
import type { Controls } from './controls.ts';
import type { Member } from './hud.ts';
import type { WorldView } from './view.ts';
import { type CameraChoice, WatchCamera } from './watchcam.ts';

export interface WatchDeps {
  code: string;
  controls: Controls;
  /** The world point under a canvas point (CSS px), as last rendered; null before the first frame. */
  toWorld: (x: number, y: number) => { x: number; y: number } | null;
  /** Where the camera is centred (world u) and its CSS px per world unit; null before the first frame. */
  view: () => { centre: { x: number; y: number }; scale: number } | null;
  /** The Join button: play in this room. */
  join: () => void;
}

const HELP = 'Watching · drag or WASD / arrows: camera · click a player: follow · N netgraph';

export class WatchMode {
  readonly camera = new WatchCamera();
  private readonly root = byId('watch');
  private readonly text = byId('watch-text');
  private readonly select = byId<HTMLSelectElement>('watch-follow');
  private readonly joinButton = byId<HTMLButtonElement>('watch-join');
  private readonly help = document.querySelector<HTMLElement>('#hud .help');
  private readonly helpText: string;
  private readonly listeners = new AbortController();
  private textKey = '';
  private optionsKey = '';
  private shownChoice: CameraChoice | null = null;

  constructor(private readonly deps: WatchDeps) {
    const signal = this.listeners.signal;
    this.joinButton.addEventListener('click', () => deps.join(), { signal });
    this.select.addEventListener('change', () => {
      const v = this.select.value;
      if (v === 'free') this.camera.free();
      else this.camera.follow(v === 'auto' ? 0 : Number(v));
      this.select.blur(); // keys go back to the camera
    }, { signal });
    this.helpText = this.help?.textContent ?? '';
    if (this.help) this.help.textContent = HELP;
    document.body.classList.add('watching');
    show(this.root, true);
  }

  /** The scene's camera hook, after the frame was drawn: where to look (null: where it looked). */
  look(now: number, world: WorldView | null): { x: number; y: number } | null {
    const players = world?.players ?? [];
    const click = this.deps.controls.takeClick();
    if (click) {
      const at = this.deps.toWorld(click.x, click.y);
      if (at) this.camera.pick(at.x, at.y, players);
    }
    const pan = this.deps.controls.pan();
    const v = this.deps.view();
    return v ? this.camera.update(now, players, pan, v.centre, v.scale) : null;
  }

  /** The banner and the camera choices, touched only when they change. */
  update(watchers: number, roster: ReadonlyMap<number, Member>): void {
    const text = `Watching room ${this.deps.code} · ${watchers} watching`;
    if (text !== this.textKey) this.text.textContent = this.textKey = text;
    let key = '';
    for (const [id, m] of roster) key += `${id}:${m.name}|`;
    const choice = this.camera.choice;
    if (typeof choice === 'number' && !roster.has(choice)) this.camera.follow(0); // the player left
    if (key !== this.optionsKey) {
      this.optionsKey = key;
      const option = (value: string, label: string) => {
        const o = el('option', '', label);
        o.value = value;
        return o;
      };
      this.select.replaceChildren(option('auto', 'Leader'), option('free', 'Free camera'),
        ...[...roster].map(([id, m]) => option(String(id), m.name)));
      this.shownChoice = null;
    }
    if (this.camera.choice !== this.shownChoice) {
      this.shownChoice = this.camera.choice;
      this.select.value = String(this.shownChoice);
    }
  }

  destroy(): void {
    this.listeners.abort();
    this.select.replaceChildren();
    this.text.textContent = '';
    if (this.help) this.help.textContent = this.helpText;
    document.body.classList.remove('watching');
    show(this.root, false);
  }
}
