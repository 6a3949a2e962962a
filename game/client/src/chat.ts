/**
 * The chat panel: a log of messages, notices and announcements, and a text box. Names and text
 * are untrusted and only ever set as textContent. Enter (in the game) focuses
 * the box; Enter sends and returns to the game; Escape just returns.
 * A spectator's panel is read-only (`readOnly`: the box is disabled and says why):
 * the server closes a spectator that sends CHAT.
 */
import { LIMITS } from '../../../netcode/protocol.ts';
import { cleanText } from '../../../netcode/text.ts';
import { byId, el, trimChildren } from './dom.ts';

const MAX_LINES = 40;

export class ChatPanel {
  private readonly log = byId('chat-log');
  private readonly input = byId<HTMLInputElement>('chat-input');
  /** Removes this panel's listeners: the elements outlive it (index.html), the next match adds its own. */
  private readonly listeners = new AbortController();
  private readonly placeholder: string;

  /** `readOnly`: the text the disabled box shows instead of taking messages (a spectator's). */
  constructor(send: (text: string) => void, onFocusChange: (typing: boolean) => void, opts: { readOnly?: string } = {}) {
    const signal = this.listeners.signal;
    this.input.maxLength = LIMITS.maxChatLength;
    this.input.value = '';
    this.placeholder = this.input.placeholder;
    if (opts.readOnly !== undefined) {
      this.input.disabled = true;
      this.input.placeholder = opts.readOnly;
      return;
    }
    this.input.addEventListener('keydown', (e) => {
      e.stopPropagation(); // typing is not game input
      if (e.key === 'Enter') {
        e.preventDefault();
        const text = cleanText(this.input.value, LIMITS.maxChatLength);
        this.input.value = '';
        if (text) send(text); // the server closes a socket that sends an empty CHAT
        this.input.blur();
      } else if (e.key === 'Escape') {
        this.input.blur();
      }
    }, { signal });
    this.input.addEventListener('focus', () => onFocusChange(true), { signal });
    this.input.addEventListener('blur', () => onFocusChange(false), { signal });
  }

  /** Detaches from the page's chat box and empties it (the match is over). */
  destroy(): void {
    this.listeners.abort();
    this.input.blur();
    this.input.value = '';
    this.input.disabled = false;
    this.input.placeholder = this.placeholder;
    this.clear();
  }

  focus(): void {
    if (!this.input.disabled) this.input.focus();
  }

  /** A player's message. */
  say(name: string, text: string, color: string): void {
    const li = el('li');
    const who = el('span', 'who', `${name}:`);
    who.style.color = color;
    li.append(who, document.createTextNode(text));
    this.push(li);
  }

  /** A system line (joins, leaves, the server's notices). */
  notice(text: string): void {
    this.push(el('li', 'notice', text));
  }

  /** An operator's announcement: set apart from players' chat, so nobody can pass for one. */
  announce(text: string): void {
    const li = el('li', 'announce');
    li.append(el('span', 'who', 'Announcement:'), document.createTextNode(text));
    this.push(li);
  }

  clear(): void {
    this.log.replaceChildren();
  }

  private push(li: HTMLLIElement): void {
    this.log.append(li);
    trimChildren(this.log, MAX_LINES);
  }
}
