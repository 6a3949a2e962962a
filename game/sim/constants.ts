/**
 * Every rule number of the arena, with its unit. 1 u (world unit) = 1 screen
 * pixel at zoom 1. Times are in seconds; the simulation step gets a fixed `dt`.
 */

/** Arena size; the outer border is solid. */
export const ARENA_W = 1600; // u
export const ARENA_H = 1200; // u

/**
 * Positions live on a 1/8 u grid: the server snaps state to it after every step
 * and the wire carries exactly these values, so a client replaying its own inputs
 * lands on the very same numbers (zero corrections on a clean link).
 */
export const POS_SCALE = 8; // grid steps per u

export const PLAYER_RADIUS = 14; // u; collision box is the circle's bounding square
export const PLAYER_SPEED = 220; // u/s, instant (no acceleration: crisp + exactly predictable)
export const PLAYER_MAX_HP = 100; // hp
export const RESPAWN_DELAY = 2; // s dead before respawning
export const SPAWN_SHIELD = 1; // s of invulnerability after spawning

export const FIRE_INTERVAL = 0.2; // s between shots (5 shots/s)
export const SHOT_RANGE = 900; // u, hitscan ray length
export const SHOT_DAMAGE = 20; // hp per hit on a player (5 hits to kill)
export const SHOT_TTL = 0.15; // s a tracer stays visible
/** Lag compensation never rewinds further than this (bounds what a laggy shooter can claim). */
export const MAX_REWIND = 0.25; // s

export const NPC_RADIUS = 12; // u
export const NPC_SPEED = 70; // u/s
export const NPC_MAX_HP = 40; // hp (2 hits)
export const NPC_TURN_CHANCE = 0.02; // probability per step that a drone picks a new heading
export const NPC_RESPAWN_DELAY = 3; // s

export const SCORE_KILL = 5; // points for killing a player
export const SCORE_NPC = 1; // points for downing a drone
export const SCORE_LIMIT = 50; // first to this wins the round
export const ROUND_TIME = 180; // s; highest score wins when it runs out
export const INTERMISSION = 5; // s between rounds

/** Input buttons, a bitmask. */
export const BTN_UP = 1;
export const BTN_DOWN = 2;
export const BTN_LEFT = 4;
export const BTN_RIGHT = 8;
export const BTN_FIRE = 16;
export const BTN_ALL = 31;

/** Aim is a 16-bit binary angle: 0..65535 maps to 0..2π (clockwise, screen axes). */
export const AIM_STEPS = 65536;

