/**
 * What the bots of one worker count, cumulative since the worker started; the
 * main thread sums the workers' latest values and diffs them between marks.
 */
export interface Counters {
  started: number; // bots that began connecting
  connected: number; // bots whose first WELCOME arrived
  live: number; // bots with an open, welcomed socket right now
  failed: number; // bots that never got a WELCOME (token, upgrade refusal, timeout)
  disconnected: number; // sockets closed by the server or the network (not by the bot)
  dropped: number; // sockets the bot dropped on purpose (churn)
  resumed: number; // WELCOMEs with resumed = true
  snapshots: number;
  missed: number; // snapshot ticks never received (gaps in the tick sequence of one connection)
  desyncs: number;
  decodeErrors: number;
  errors: number; // ERROR messages, socket errors, failed reconnects
  bytesIn: number;
  bytesOut: number;
  inputs: number;
  chats: number;
  lateInputs: number; // inputs owed beyond the backlog clamp (the worker's loop fell behind)
  redirects: number; // REDIRECTs followed (a join at an instance that does not hold the room; not an error)
  moved: number; // MOVEs followed (the room moved to another instance, its seat with it: a drain)
  // Spectators (spectator.ts, --spectators), counted apart from the bots:
  specConnected: number; // spectators whose first WELCOME arrived
  specLive: number;
  specFailed: number; // never welcomed
  specDisconnected: number; // closed by the server or the network
  specSnapshots: number; // applied
  specMissed: number; // ticks never received
  specDesyncs: number;
  specDecodeErrors: number;
  specErrors: number; // ERROR messages, a WELCOME with a seat, failed reconnects, refusals
}

export const COUNTER_KEYS: readonly (keyof Counters)[] = [
  'started', 'connected', 'live', 'failed', 'disconnected', 'dropped', 'resumed', 'snapshots', 'missed', 'desyncs',
  'decodeErrors', 'errors', 'bytesIn', 'bytesOut', 'inputs', 'chats', 'lateInputs', 'redirects', 'moved',
  'specConnected', 'specLive', 'specFailed', 'specDisconnected', 'specSnapshots', 'specMissed', 'specDesyncs', 'specDecodeErrors',
  'specErrors',
];

export function zeroCounters(): Counters {
  const c = {} as Counters;
  for (const k of COUNTER_KEYS) c[k] = 0;
  return c;
}

export function addCounters(into: Counters, c: Counters): Counters {
  for (const k of COUNTER_KEYS) into[k] += c[k];
  return into;
}

/** b − a, except `live`, which is a level and is taken from b. */
export function diffCounters(b: Counters, a: Counters): Counters {
  const d = zeroCounters();
  for (const k of COUNTER_KEYS) d[k] = b[k] - a[k];
  d.live = b.live;
  d.specLive = b.specLive;
  return d;
}
