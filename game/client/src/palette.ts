/** Colours of the arena, one place: players get a stable colour from their id. */

export const COLORS = {
  background: 0x0d1117,
  floor: 0x11161d,
  grid: 0x1a212b,
  wall: 0x30363d,
  wallEdge: 0x484f58,
  own: 0xffd33d,
  npc: 0xbc8cff,
  npcHurt: 0x8957e5,
  hpBack: 0x21262d,
  hpGood: 0x3fb950,
  hpLow: 0xf85149,
  shield: 0x79c0ff,
  tracerOwn: 0xfff3b0,
  tracer: 0xffa657,
  hit: 0xff7b72,
} as const;

/** 16 distinguishable colours (a room holds 16 players), none close to the own player's yellow. */
const PLAYER_HUES = [
  0x58a6ff, 0x3fb950, 0xf778ba, 0xffa657, 0x56d4dd, 0xd2a8ff, 0xff7b72, 0xa5d6ff,
  0x7ee787, 0xe8590c, 0x1f6feb, 0xbf4b8a, 0x2ea043, 0x8957e5, 0x39c5cf, 0xc9d1d9,
];

/** A player's colour (the own player is always drawn in COLORS.own on top of it). */
export const playerColor = (id: number): number => PLAYER_HUES[id % PLAYER_HUES.length];
