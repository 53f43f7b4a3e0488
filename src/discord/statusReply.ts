// `/comfy status`: every backend's health, queue and VRAM (from ComfyUI's system_stats). Why a backend is down
// (an error naming its address) is for the bot's operators only: server admins see that it is down.
import type { APIEmbed } from 'discord.js';
import type { Lease, ProcessRow } from '../jobs/store-types.js';
import { fitEmbed, truncate } from './embedLimits.js';
import { viewAgeNote } from './viewAgeNote.js';

export type BackendStatusView =
  | {
      name: string;
      up: true;
      /** Null where the queue cannot be seen (a v2 endpoint without a classic URL). */
      running: number | null;
      pending: number | null;
      /** First GPU of system_stats; absent on CPU-only or cloud backends. */
      vram?: { freeBytes: number; totalBytes: number } | null;
      version?: string | null;
    }
  /** `error` only in an operator's view. */
  | { name: string; up: false; error?: string; downForSeconds?: number | null };

/** A backend's status line plus the API the bot speaks to it. */
export type BackendStatus = BackendStatusView & { api?: 'classic' | 'v2' };

export interface StatusView {
  backends: readonly BackendStatus[];
  mode: 'open' | 'paused' | 'draining';
  queued: number;
  /** The pause or drain of the server the status was asked in, set by its admins. */
  server?: 'open' | 'paused' | 'draining';
  /** Several processes sharing the store (operators only): who runs, with which shards, and who leads since when. */
  cluster?: { processes: readonly ProcessRow[]; lease: Lease | null; now: number };
  /** Health from the leading process's view (a standby): its age in ms when not fresh, 'none' before it reported. */
  viewAge?: number | 'none';
}

function clusterEmbed(cluster: NonNullable<StatusView['cluster']>): APIEmbed {
  const { lease, now } = cluster;
  const leading = lease !== null && lease.expiresAt > now ? lease : null;
  const description = leading
    ? `Leader since <t:${Math.floor(leading.acquiredAt / 1000)}:R> (fencing number ${leading.fence})`
    : '⚠️ No process holds the leader lease right now: a standby takes it within the lease time.';
  return fitEmbed({
    title: `Processes (${cluster.processes.length})`,
    description,
    color: leading ? 0x57f287 : 0xfee75c,
    fields: cluster.processes.map((p) => ({
      name: `${p.id === leading?.holder ? '👑 leader' : 'standby'} · ${truncate(p.host, 60)} pid ${p.pid}`,
      value: `shards ${truncate(p.shards, 60)} · started <t:${Math.floor(p.startedAt / 1000)}:R> · heartbeat ${Math.max(0, Math.round((now - p.heartbeatAt) / 1000))} s ago`,
    })),
  });
}

function gigabytes(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
}

function vramText(vram: { freeBytes: number; totalBytes: number }): string {
  const used = Math.max(0, vram.totalBytes - vram.freeBytes);
  const percent = vram.totalBytes > 0 ? Math.round((used / vram.totalBytes) * 100) : 0;
  return `VRAM ${gigabytes(used)} of ${gigabytes(vram.totalBytes)} used (${percent}%)`;
}

function backendValue(backend: BackendStatus): string {
  const api = backend.api === 'v2' ? ' · Comfy API v2' : '';
  if (!backend.up) {
    const since = backend.downForSeconds != null ? ` for ${Math.round(backend.downForSeconds)}s` : '';
    return `🔴 down${since}${api}${backend.error === undefined ? '' : `: ${truncate(backend.error, 300)}`}`;
  }
  const queue = backend.running === null || backend.pending === null ? 'queue not visible' : `${backend.running} running, ${backend.pending} waiting`;
  const lines = [`🟢 up${api} · ${queue}`];
  if (backend.vram) lines.push(vramText(backend.vram));
  if (backend.version) lines.push(`ComfyUI ${truncate(backend.version, 40)}`);
  return lines.join('\n');
}

const MODE_TEXT = { open: 'accepting jobs', paused: '⏸️ paused (jobs wait)', draining: '🚧 draining (no new jobs)' } as const;
const SERVER_TEXT = { open: '', paused: ' · this server: ⏸️ paused by its admins', draining: ' · this server: 🚧 draining, no new jobs' } as const;

export function renderStatus(view: StatusView): { embeds: APIEmbed[] } {
  const up = view.backends.filter((b) => b.up).length;
  return {
    embeds: [
      fitEmbed({
        title: 'ComfyUI backends',
        description: `${up} of ${view.backends.length} up · ${view.queued} jobs waiting · ${MODE_TEXT[view.mode]}${SERVER_TEXT[view.server ?? 'open']}${viewAgeNote(view.viewAge)}`,
        color: up === view.backends.length ? 0x57f287 : up === 0 ? 0xed4245 : 0xfee75c,
        fields: view.backends.map((backend) => ({ name: backend.name, value: backendValue(backend) })),
      }),
      ...(view.cluster ? [clusterEmbed(view.cluster)] : []),
    ],
  };
}
