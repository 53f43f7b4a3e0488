// `/queue`: the caller's jobs and the size of the queue, as an ephemeral embed. A server's admins also see the
// jobs of their own server (who and which command, never a prompt), and nothing of other servers.
import type { APIEmbed } from 'discord.js';
import { formatDuration } from './cardRenderer.js';
import { fitEmbed, truncate } from './embedLimits.js';
import { viewAgeNote } from './viewAgeNote.js';

export type QueuedJobView =
  /** `position` null: its place is not known yet (admitted on another process a moment ago). */
  | { jobId: string; command: string; state: 'queued'; position: number | null; etaSeconds?: number | null; cardUrl?: string | null }
  | { jobId: string; command: string; state: 'running'; elapsedSeconds: number; cardUrl?: string | null }
  /** Finished, but Discord has not taken its results yet (kept in the store and retried until `givesUpInSeconds`). */
  | { jobId: string; command: string; state: 'delivering'; finishedSecondsAgo: number; givesUpInSeconds: number; cardUrl?: string | null };

/** One job of the caller's server, for its admins. */
export interface ServerJobView {
  ownerId: string;
  command: string;
  state: 'queued' | 'running';
  /** 1-based place in the whole queue, when waiting and known. */
  position?: number | null;
}

export interface QueueView {
  yours: readonly QueuedJobView[];
  /** Set for a server's admins: the unfinished jobs of that server. */
  server?: readonly ServerJobView[];
  /** The pause or drain the server's admins set. */
  serverMode?: 'open' | 'paused' | 'draining';
  queued: number;
  running: number;
  /** Set by `/comfy pause` or `drain`: nothing new starts. */
  mode: 'open' | 'paused' | 'draining';
  /** Shown from the leading process's view (a standby): its age in ms when not fresh, 'none' before it reported. */
  viewAge?: number | 'none';
}

function line(job: QueuedJobView): string {
  const link = job.cardUrl ? ` · [card](${job.cardUrl})` : '';
  const what = `\`/${truncate(job.command, 40)}\``;
  if (job.state === 'running') return `▶️ ${what} running for ${formatDuration(job.elapsedSeconds)}${link}`;
  if (job.state === 'delivering') {
    // Retried for a bounded time only: the member is told how long, not promised the results.
    return `📦 ${what} finished ${formatDuration(job.finishedSecondsAgo)} ago; its results are not delivered yet and are tried again for up to ${formatDuration(Math.max(job.givesUpInSeconds, 0))} more${link}`;
  }
  const eta = job.etaSeconds != null ? `, starts in about ${formatDuration(job.etaSeconds)}` : '';
  if (job.position === null) return `⏳ ${what} waiting; its place in line is not known yet${link}`;
  return `⏳ ${what} #${job.position} in line${eta}${link}`;
}

function serverLine(job: ServerJobView): string {
  const what = `\`/${truncate(job.command, 40)}\` · <@${job.ownerId}>`;
  return job.state === 'running' ? `▶️ ${what}` : `⏳ #${job.position ?? '?'} ${what}`;
}

const SERVER_NOTICE = {
  open: '',
  paused: "\n\n⏸️ This server's admins paused its jobs: they wait until /comfy resume.",
  draining: "\n\n🚧 This server's admins stopped taking new jobs for now.",
} as const;

export function renderQueue(view: QueueView): { embeds: APIEmbed[] } {
  const mine = view.yours.length === 0 ? 'You have no jobs waiting, running or waiting for delivery.' : view.yours.map(line).join('\n');
  const botNotice = view.mode === 'paused' ? '\n\n⏸️ The queue is paused by the bot\'s operators: jobs wait until it resumes.' : view.mode === 'draining' ? '\n\n🚧 The bot is draining for maintenance: no new jobs are taken.' : '';
  const notice = `${botNotice}${SERVER_NOTICE[view.serverMode ?? 'open']}${viewAgeNote(view.viewAge)}`;
  const server = view.server === undefined ? [] : [{ name: "This server's jobs", value: view.server.length === 0 ? 'None.' : truncate(view.server.map(serverLine).join('\n'), 1024) }];
  return {
    embeds: [
      fitEmbed({
        title: 'Queue',
        description: `${mine}${notice}`,
        fields: [
          { name: 'Running', value: String(view.running), inline: true },
          { name: 'Waiting', value: String(view.queued), inline: true },
          ...server,
        ],
      }),
    ],
  };
}
