/**
 * The tickwire wire protocol: every message, its numeric code and its fields, in
 * this one file. Each message is a msgpack array whose first element is the code:
 *
 *   client → server
 *   HELLO     [1, version, resumeTick]            first message; resumeTick = last tick the client
 *                                                 still holds (0 = none), lets a resume continue by delta
 *   INPUT     [2, ackTick, viewTick, firstSeq, [buttons, aim, buttons, aim, …]]
 *                                                 the last few unacknowledged inputs, oldest first, seqs
 *                                                 firstSeq, firstSeq+1, …; ackTick = newest snapshot
 *                                                 applied; viewTick = the tick the player was looking at
 *                                                 (interpolated remote state) — for lag compensation
 *   ACK       [3, ackTick]                        acknowledgement without input; at most one a tick
 *                                                 (every message counts against the rate limit)
 *   PING      [4, clientTime]                     ms on the client's clock, echoed in PONG
 *   CHAT      [5, text]
 *
 *   server → client
 *   WELCOME   [16, version, playerId, tickRate, serverTick, room, roster, resumed, lastSeq, instance]
 *             roster = [[id, name, connected 0|1], …]; lastSeq = last input seq of this seat
 *             applied (a resumed client numbers its inputs on from lastSeq + 1); instance = the
 *             id of the server instance that owns the room ('' for a standalone server)
 *   SNAPSHOT  [17, tick, baseTick, checksum, body, events]
 *             body = delta against baseTick (0 = full), bit-packed (netcode/delta.ts);
 *             checksum = uint32 of the state the client holds after applying; events =
 *             [[EV_*, …], …] since the previous snapshot this client received (nothing is
 *             dropped when a snapshot is skipped). Nothing in it is private to one client, so
 *             the server publishes one copy to every client of a room that holds the previous
 *             tick: the last input seq applied and the position the client's reconciliation
 *             starts from travel in the client's own entity (the schema's `seat` fields, see
 *             netcode/schema.ts). A client that holds another baseline (a skipped or resumed
 *             one, or one that asked for a full snapshot) is sent its own copy, against its ack.
 *   PONG      [18, clientTime, serverTime]
 *   ERROR     [21, closeCode, reason]            sent just before the server closes the socket
 *   REDIRECT  [22, url, instance, reason]        the room lives on another instance of the cluster:
 *             url = that instance's WebSocket endpoint (ws:// or wss://, no query). Sent instead of
 *             WELCOME, then the socket closes with CLOSE_REDIRECT; the client connects to url with
 *             the same room and token at once (no backoff, no error shown)
 *   MOVE      [23, url, instance, reason]        the room itself moved to another instance (this one is
 *             draining for a deploy): the seat, score and round went with it. Sent to a welcomed
 *             client, then the socket closes with CLOSE_REDIRECT; the client connects to url at
 *             once with the same token and resumes its seat there (HELLO with its resumeTick; the
 *             new owner holds no baseline of it, so its first snapshot is a full one)
 *
 * Over Server-Sent Events (networks that refuse the WebSocket upgrade), the same bytes:
 *   down: GET /api/rooms/CODE/events?token=T[&spectate=1] (text/event-stream). The first event is
 *     `event: open` with `data: <conn id>`; then each server message is one default event whose
 *     `data:` is the message in base64, a SNAPSHOT's with `id: <tick>`; the server's close is
 *     `event: close` with `data: <code> <reason>`, then the stream ends. A spectator's stream is
 *     welcomed at once (no HELLO needed) and resumes by delta from `Last-Event-ID` when that
 *     tick is still held.
 *   up: POST /api/rooms/CODE/send?conn=ID&token=T, application/octet-stream: one or more client
 *     messages, each a 2-byte big-endian length and the message (HELLO, INPUT, ACK, PING, CHAT,
 *     exactly as over the WebSocket). 204 when taken; 4xx with a reason when refused.
 *
 * Clients send intents (buttons, aim), never positions or dt. One message each way
 * per client per tick: events and chat ride on the snapshot.
 */

/** A room's code, as `?room=`, WELCOME.room and the share links carry it. */
export const ROOM_CODE = /^[A-Z]{5}$/;

export const PROTOCOL_VERSION = 5; // 3: WELCOME.instance, REDIRECT, EV_ANNOUNCE; 4: MOVE; 5: spectators (WELCOME.watchers, EV_WATCHERS)

export const C_HELLO = 1;
export const C_INPUT = 2;
export const C_ACK = 3;
export const C_PING = 4;
export const C_CHAT = 5;

export const S_WELCOME = 16;
export const S_SNAPSHOT = 17;
export const S_PONG = 18;
export const S_ERROR = 21;
export const S_REDIRECT = 22;
export const S_MOVE = 23;

/** Event kinds carried in SNAPSHOT.events. */
export const EV_JOIN = 1; // [1, id, name]
export const EV_LEAVE = 2; // [2, id]          gone for good (grace expired or left)
export const EV_DROP = 3; // [3, id]           connection lost; may resume
export const EV_RESUME = 4; // [4, id]
export const EV_CHAT = 5; // [5, id, text]
export const EV_KILL = 6; // [6, killer, victim]
export const EV_NPC_DOWN = 7; // [7, killer, npc]
export const EV_ROUND_END = 8; // [8, winner, round]
export const EV_ROUND_START = 9; // [9, round]
export const EV_ROSTER = 10; // [10, [[id, name, connected], …]]  full list, when events were missed
export const EV_NOTICE = 11; // [11, text]      to one client only (e.g. chat refused by the rate limit)
export const EV_ANNOUNCE = 12; // [12, text]    an operator's announcement, to every player of every instance
export const EV_WATCHERS = 13; // [13, n]       the room's spectators now (sent when the count changes)

/** WebSocket close codes (4000–4999 are the application's). */
export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001; // server shutting down
export const CLOSE_TRY_AGAIN = 1013; // RFC 6455 "try again later": no room here now (Redis down, too many rooms); not final
export const CLOSE_REPLACED = 4000; // the same session connected again elsewhere
export const CLOSE_BAD_VERSION = 4002; // PROTOCOL_VERSION mismatch
export const CLOSE_BAD_MESSAGE = 4003; // malformed or invalid message
export const CLOSE_RATE_LIMIT = 4004; // too many messages
export const CLOSE_KICKED = 4005; // removed by the server
export const CLOSE_ROOM_CLOSED = 4006;
export const CLOSE_NO_HELLO = 4007; // first message was not HELLO
export const CLOSE_ROOM_FULL = 4008;
export const CLOSE_RESTARTING = 4010; // the server restarts with the room saved: reconnect (with backoff) and resume the seat
export const CLOSE_REDIRECT = 4009; // the room lives elsewhere: follow the REDIRECT or MOVE just sent (not an error)
export const CLOSE_TOO_SLOW = 4011; // the client read too slowly (skipped for SLOW_READER_S, or past SLOW_READER_BYTES): reconnect; the seat is kept
export const CLOSE_SPECTATOR = 4012; // a spectator sent INPUT or CHAT: spectators only watch

/** Close codes after which a client must not reconnect on its own. */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CLOSE_NORMAL, CLOSE_REPLACED, CLOSE_BAD_VERSION, CLOSE_BAD_MESSAGE, CLOSE_KICKED, CLOSE_ROOM_CLOSED, CLOSE_NO_HELLO,
  CLOSE_ROOM_FULL, CLOSE_SPECTATOR,
]);

export const LIMITS = {
  /** Inputs one INPUT message may carry (the redundant tail of unacknowledged ones). */
  maxInputsPerMessage: 8,
  maxChatLength: 200, // characters
  maxNameLength: 16, // characters
  maxTick: 0xffffffff,
  maxSeq: 0xffffffff,
  maxMessageBytes: 1024,
  maxAnnouncementLength: 300, // characters
  maxUrlLength: 512, // characters, REDIRECT.url and MOVE.url
  maxInstanceIdLength: 32, // characters
} as const;

export type RosterEntry = [id: number, name: string, connected: 0 | 1];
export type WireEvent = (number | string | RosterEntry[])[];

export interface InputFrame {
  seq: number;
  buttons: number;
  aim: number;
}

/** What a player intends in one input, before it is numbered: INPUT's per-input fields. */
export type InputIntent = Omit<InputFrame, 'seq'>;

export type ClientMessage =
  | { type: typeof C_HELLO; version: number; resumeTick: number }
  | { type: typeof C_INPUT; ackTick: number; viewTick: number; inputs: InputFrame[] }
  | { type: typeof C_ACK; ackTick: number }
  | { type: typeof C_PING; clientTime: number }
  | { type: typeof C_CHAT; text: string };

export type ServerMessage =
  | {
      type: typeof S_WELCOME; version: number; playerId: number; tickRate: number; serverTick: number; room: string;
      roster: RosterEntry[]; resumed: boolean; lastSeq: number; instance: string; watchers: number;
    }
  | {
      type: typeof S_SNAPSHOT; tick: number; baseTick: number; checksum: number; body: Uint8Array; events: WireEvent[];
    }
  | { type: typeof S_PONG; clientTime: number; serverTime: number }
  | { type: typeof S_ERROR; code: number; reason: string }
  | { type: typeof S_REDIRECT; url: string; instance: string; reason: string }
  | { type: typeof S_MOVE; url: string; instance: string; reason: string };
