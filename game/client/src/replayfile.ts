/**
 * Recorded matches over HTTP: the list (GET /api/replays, newest first) and one
 * replay's file (GET /api/replays/ID). The server sends the file as written,
 * `application/gzip` without a Content-Encoding, so the browser does not inflate
 * it: DecompressionStream does, unless the bytes are plain msgpack already (a proxy
 * that did decode them). Then netcode's decodeReplay checks it; it never throws.
 *
 * The list's texts (duration, "5 min ago") are pure functions of the entry and a
 * wall-clock `now` handed in.
 */
import { decodeReplay, type Recording, type ReplaySummary } from '../../../netcode/replay.ts';

/** A listed replay: the summary plus what the store adds (server/replays.ts ReplayEntry). */
export interface ReplayListing extends ReplaySummary {
  size: number;
  duration_s: number;
}

export interface ReplayList {
  /** False when the server records nothing (REPLAY_DIR empty). */
  recording: boolean;
  total: number;
  replays: ReplayListing[];
}

/** GET /api/replays: the newest `limit` matches; entries without an id or a room are dropped. */
export async function listReplays(limit = 10): Promise<ReplayList> {
  const res = await fetch(`/api/replays?limit=${limit}`);
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const body = (await res.json()) as Partial<ReplayList> | null;
  const replays = (Array.isArray(body?.replays) ? body.replays : []).filter((r): r is ReplayListing =>
    !!r && typeof r.id === 'string' && typeof r.room === 'string' && Array.isArray(r.players) && typeof r.endedAt === 'number');
  return { recording: body?.recording === true, total: typeof body?.total === 'number' ? body.total : replays.length, replays };
}

/** Inflates gzip bytes in the browser. */
async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The recording of replay `id`, or the reason it cannot be shown (in words for the viewer). */
export async function fetchReplay(id: string): Promise<{ ok: true; rec: Recording } | { ok: false; reason: string }> {
  let res: Response;
  try {
    res = await fetch(`/api/replays/${encodeURIComponent(id)}`);
  } catch {
    return { ok: false, reason: 'Cannot reach the server. Check your connection and try again.' };
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: unknown } | null;
    return { ok: false, reason: typeof body?.error === 'string' ? body.error : `HTTP ${res.status}` };
  }
  let bytes: Uint8Array = new Uint8Array(await res.arrayBuffer());
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = await gunzip(bytes);
    } catch (err) {
      return { ok: false, reason: `The replay file is damaged (${(err as Error).message}).` };
    }
  }
  const read = decodeReplay(bytes);
  return read.ok ? read : { ok: false, reason: `Not a replay this viewer can show: ${read.reason}.` };
}

/** m:ss of a number of seconds (h:mm:ss past the hour). */
export function clockText(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** How long ago `at` (ms since the epoch) was, as of `now`: "just now", "5 min ago", "3 h ago", "2 days ago". */
export function agoText(at: number, now: number): string {
  const s = Math.max(0, (now - at) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  const d = Math.floor(s / 86400);
  return d === 1 ? 'yesterday' : `${d} days ago`;
}

/** The players of a listed match, at most `max` names and "+N" for the rest. */
export function playersText(players: readonly [number, string][], max = 4): string {
  if (players.length === 0) return 'nobody';
  const names = players.slice(0, max).map(([, n]) => n).join(', ');
  return players.length > max ? `${names} +${players.length - max}` : names;
}
