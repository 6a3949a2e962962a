/**
 * Input pacing: one input per server tick, from a fixed-step accumulator fed
 * with the frame times, whatever the frame rate.
 *
 * Inputs owed after a slow frame are all made but sent in ONE message: every
 * INPUT carries the tail of unacknowledged inputs (LIMITS.maxInputsPerMessage),
 * so the last message of a batch holds the whole batch. A backlog beyond that (a
 * stall, a hidden tab) is dropped rather than replayed. A click shorter than a
 * tick still fires: fire is latched until the next input goes out.
 */
import { BTN_FIRE } from '../../sim/constants.ts';
import type { Input } from '../../sim/state.ts';
import { LIMITS } from '../../../netcode/protocol.ts';

const MAX_BACKLOG_TICKS = LIMITS.maxInputsPerMessage;

export interface PacerTarget {
  /** Records the next input (NetClient.input) and returns its seq and message. */
  make: (input: Input) => { seq: number; bytes: Uint8Array };
  send: (bytes: Uint8Array) => void;
  /** The input was made: predict it (and draw its shot). */
  made: (seq: number, input: Input) => void;
}

export class InputPacer {
  private acc = 0; // ms of input time owed
  private fireLatch = false;
  private sendNow = false;

  /** A new socket was welcomed: the first input goes out at once, not a tick late. */
  welcome(): void {
    this.acc = 0;
    this.sendNow = true;
  }

  /** Not connected: owe nothing. */
  idle(): void {
    this.acc = 0;
    this.fireLatch = false;
  }

  /** Advances by one frame of `dtMs`; makes the inputs due and sends them. Returns how many. */
  step(dtMs: number, periodMs: number, buttons: number, aim: number, target: PacerTarget): number {
    if (buttons & BTN_FIRE) this.fireLatch = true;
    this.acc = Math.min(this.acc + dtMs, periodMs * MAX_BACKLOG_TICKS);
    let due = Math.floor(this.acc / periodMs);
    this.acc -= due * periodMs;
    if (this.sendNow) {
      due = Math.max(due, 1);
      this.sendNow = false;
    }
    let last: Uint8Array | null = null;
    for (let i = 0; i < due; i++) {
      const input = { buttons: buttons | (this.fireLatch ? BTN_FIRE : 0), aim };
      this.fireLatch = false;
      const { seq, bytes } = target.make(input);
      last = bytes;
      target.made(seq, input);
    }
    if (last) target.send(last);
    return due;
  }
}
