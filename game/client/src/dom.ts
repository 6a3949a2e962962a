/**
 * Tiny DOM helpers. Text always goes in through textContent, never innerHTML:
 * player names and chat are untrusted.
 */

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el as T;
}

/** A new element with a class and text content. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', text = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text) e.textContent = text;
  return e;
}

/** Shows or hides an element (the `hidden` attribute). */
export function show(e: HTMLElement, visible: boolean): void {
  e.hidden = !visible;
}

/** Keeps at most `max` children, dropping the oldest (first). */
export function trimChildren(parent: HTMLElement, max: number): void {
  while (parent.childElementCount > max) parent.firstElementChild?.remove();
}

/** CSS colour of a 24-bit colour number. */
export const cssColor = (c: number): string => `#${c.toString(16).padStart(6, '0')}`;
