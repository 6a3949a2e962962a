/** The simulation's events as protocol events (see EV_* in netcode/protocol.ts). */
import type { GameEvent } from '../game/sim/index.ts';
import { EV_KILL, EV_NPC_DOWN, EV_ROUND_END, EV_ROUND_START, type WireEvent } from '../netcode/protocol.ts';

export function toWire(e: GameEvent): WireEvent {
  switch (e.kind) {
    case 'kill': return [EV_KILL, e.killer, e.victim];
    case 'npc_down': return [EV_NPC_DOWN, e.killer, e.npc];
    case 'round_end': return [EV_ROUND_END, e.winner, e.round];
    case 'round_start': return [EV_ROUND_START, e.round];
  }
}
