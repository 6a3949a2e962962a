/**
 * An in-memory `Link` (server/transport.ts) for driving a real Room on virtual
 * time: every message the room sends goes into a NetSim toward the client, which
 * the test polls (published snapshots too, once it joined the room's channel). The room's Link.send takes no time argument, so the link reads
 * the test loop's clock through `clock`. Never backed up: buffered() is 0.
 */
import type { Link, MemoryChannel } from '../../server/transport.ts';
import { NetSim, type NetSimOptions } from '../../netcode/netsim.ts';

export class MemLink implements Link {
  readonly toClient: NetSim<Uint8Array>;
  closed: { code: number; reason: string } | null = null;
  sentMessages = 0;
  sentBytes = 0;

  constructor(
    sim: NetSimOptions,
    private readonly clock: () => number,
    private readonly channel: MemoryChannel | null = null,
  ) {
    this.toClient = new NetSim<Uint8Array>(sim);
  }

  send(bytes: Uint8Array): void {
    if (this.closed) return;
    this.sentMessages++;
    this.sentBytes += bytes.byteLength;
    this.toClient.send(bytes.slice(), this.clock(), bytes.byteLength); // copy: the sender may reuse its buffer
  }

  buffered(): number {
    return 0;
  }

  close(code: number, reason: string): void {
    this.closed ??= { code, reason };
    this.channel?.member(this, false);
  }

  join(on: boolean): void {
    if (!this.closed) this.channel?.member(this, on);
  }
}
