/**
 * Why a socket would not open. The server refuses a full room (409) or a bad or
 * expired token (401, e.g. after a restart with a new SECRET) with an HTTP status
 * before the socket exists, which a browser cannot read. The room list can still
 * tell a full room apart; past that, a reachable server that keeps refusing us
 * gets a fresh session token.
 */
import { listRooms, type RoomInfo } from './api.ts';

export type Diagnosis = { kind: 'retry' } | { kind: 'end'; reason: string } | { kind: 'renew' };

export async function diagnoseRefusal(code: string, everWelcomed: boolean, failures: number): Promise<Diagnosis> {
  let rooms: RoomInfo[];
  try {
    rooms = await listRooms();
  } catch {
    return { kind: 'retry' }; // the server itself is unreachable: the socket keeps retrying and says so
  }
  const room = rooms.find((r) => r.code === code);
  if (room && room.players >= room.max && !everWelcomed) {
    return { kind: 'end', reason: `Room ${code} is full (${room.players}/${room.max} players).` };
  }
  return failures >= 3 ? { kind: 'renew' } : { kind: 'retry' };
}
