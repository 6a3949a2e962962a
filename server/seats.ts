/**
 * The numbers every message and every tick touch for each seat of a room, in one
 * Float64Array with a fixed-width row per seat (layout: `SEAT_*` in member.ts):
 * socket state, message limit, ack and sends, the backpressure bound, and the
 * input queue.
 *
 * Why one table: between two messages of one client, the server handles hundreds
 * of others and the kernel's network stack runs, so that client's state is cold
 * when its next message comes, and every object on the way costs a cache miss
 * (`perf annotate` of the message path puts its time on exactly those loads). A
 * typed array of its own costs three: the array object, its ArrayBuffer (the
 * detach check) and the data. In a table shared by the room, the first two are
 * warm (every seat uses them), so a message reads just the lines of its own row.
 */
export class SeatTable {
  readonly data: Float64Array;
  /** Doubles per row, rounded up to whole 64-byte lines. */
  readonly width: number;
  private readonly free: number[] = [];

  /** `seats` rows, each with `numbers` doubles. */
  constructor(readonly seats: number, numbers: number) {
    this.width = Math.ceil(numbers / 8) * 8;
    this.data = new Float64Array(seats * this.width);
    for (let i = seats - 1; i >= 0; i--) this.free.push(i * this.width); // row 0 first
  }

  /** A zeroed row; returns the offset of its first number. Throws when all rows are taken (a caller admitted too many seats). */
  take(): number {
    const row = this.free.pop();
    if (row === undefined) throw new Error(`seat table full (${this.seats} seats)`);
    this.data.fill(0, row, row + this.width);
    return row;
  }

  /** Gives a row back. */
  release(row: number): void {
    this.free.push(row);
  }

  get used(): number {
    return this.seats - this.free.length;
  }
}

