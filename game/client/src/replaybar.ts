/**
 * The replay viewer's control bar (its elements live in index.html, #replay):
 * title and "Back to lobby", play/pause, the seek slider (keyframes marked on it),
 * the time, the speed and who the camera follows. It only shows and reports: what
 * the controls do is the viewer's (replay.ts), through `ReplayBarHandlers`. Like the
 * game's overlays it registers its listeners with an AbortController and lets go of
 * them, and empties what it filled, on `destroy()`.
 */
import { byId, el, show } from './dom.ts';
import { clockText } from './replayfile.ts';

export interface ReplayBarHandlers {
  play: () => void;
  /** The slider moved to step `step`. */
  seek: (step: number) => void;
  speed: (speed: number) => void;
  /** Follow player `id`, or 0: the free camera. */
  follow: (id: number) => void;
}

export class ReplayBar {
  private readonly root = byId('replay');
  private readonly title = byId('replay-title');
  private readonly message = byId('replay-message');
  private readonly playButton = byId<HTMLButtonElement>('replay-play');
  private readonly slider = byId<HTMLInputElement>('replay-seek');
  private readonly marks = byId<HTMLDataListElement>('replay-keyframes');
  private readonly time = byId('replay-time');
  private readonly speedSelect = byId<HTMLSelectElement>('replay-speed');
  private readonly followSelect = byId<HTMLSelectElement>('replay-follow');
  private readonly abort = new AbortController();
  private total = '0:00';
  private timeKey = '';
  private step = -1;
  /** The slider is held (pointer down on it): the playhead does not move it under the finger. */
  private scrubbing = false;

  constructor(handlers: ReplayBarHandlers) {
    const signal = this.abort.signal;
    this.playButton.addEventListener('click', () => handlers.play(), { signal });
    this.slider.addEventListener('input', () => handlers.seek(Number(this.slider.value)), { signal });
    this.slider.addEventListener('pointerdown', () => { this.scrubbing = true; }, { signal });
    window.addEventListener('pointerup', () => { this.scrubbing = false; }, { signal });
    this.speedSelect.addEventListener('change', () => {
      handlers.speed(Number(this.speedSelect.value));
      this.speedSelect.blur(); // keys go back to the camera
    }, { signal });
    this.followSelect.addEventListener('change', () => {
      handlers.follow(Number(this.followSelect.value));
      this.followSelect.blur();
    }, { signal });
    this.title.textContent = 'Loading replay…';
    this.say(null);
    this.enable(false);
    show(this.root, true);
  }

  /** The match is loaded: its title, length, keyframes (slider marks) and players (camera choices). */
  ready(title: string, steps: number, tickRate: number, keyframes: readonly number[], players: readonly [number, string][]): void {
    this.title.textContent = title;
    this.slider.max = String(steps);
    this.total = clockText(steps / tickRate);
    this.marks.replaceChildren(...keyframes.map((at) => {
      const o = el('option');
      o.value = String(at);
      return o;
    }));
    const free = el('option', '', 'Free camera');
    free.value = '0';
    this.followSelect.replaceChildren(free, ...players.map(([id, name]) => {
      const o = el('option', '', name);
      o.value = String(id);
      return o;
    }));
    this.enable(true);
  }

  /** Says why there is nothing to show (null: clears it). */
  say(text: string | null): void {
    show(this.message, text !== null);
    this.message.textContent = text ?? '';
  }

  /** Called each frame: touches the DOM only for what changed. */
  update(step: number, seconds: number, playing: boolean): void {
    if (step !== this.step && !this.scrubbing) {
      this.step = step;
      this.slider.value = String(step);
    }
    const label = playing ? 'Pause' : 'Play';
    if (this.playButton.textContent !== label) this.playButton.textContent = label;
    const key = `${clockText(seconds)} / ${this.total}`;
    if (key !== this.timeKey) {
      this.timeKey = key;
      this.time.textContent = key;
    }
  }

  showSpeed(speed: number): void {
    this.speedSelect.value = String(speed);
  }

  showFollow(id: number): void {
    this.followSelect.value = String(id);
  }

  private enable(on: boolean): void {
    for (const c of [this.playButton, this.slider, this.speedSelect, this.followSelect]) c.disabled = !on;
  }

  destroy(): void {
    this.abort.abort();
    this.enable(false);
    this.marks.replaceChildren();
    this.followSelect.replaceChildren();
    this.slider.value = '0';
    this.time.textContent = '0:00 / 0:00';
    this.say(null);
    show(this.root, false);
  }
}
