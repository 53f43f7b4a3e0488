// `/queue`: the caller's jobs and the size of the queue, as an ephemeral embed.
import type { APIEmbed } from 'discord.js';
import { formatDuration } from './cardRenderer.js';
import { fitEmbed, truncate } from './embedLimits.js';

export type QueuedJobView =
  | { jobId: string; command: string; state: 'queued'; position: number; etaSeconds?: number | null; cardUrl?: string | null }
  | { jobId: string; command: string; state: 'running'; elapsedSeconds: number; cardUrl?: string | null }
  /** Finished, but Discord has not taken its results yet (kept in the store and retried until `givesUpInSeconds`). */
  | { jobId: string; command: string; state: 'delivering'; finishedSecondsAgo: number; givesUpInSeconds: number; cardUrl?: string | null };

export interface QueueView {
  yours: readonly QueuedJobView[];
  queued: number;
  running: number;
  /** Set by `/comfy pause` or `drain`: nothing new starts. */
  mode: 'open' | 'paused' | 'draining';
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
  return `⏳ ${what} #${job.position} in line${eta}${link}`;
}

export function renderQueue(view: QueueView): { embeds: APIEmbed[] } {
  const mine = view.yours.length === 0 ? 'You have no jobs waiting, running or waiting for delivery.' : view.yours.map(line).join('\n');
  const notice = view.mode === 'paused' ? '\n\n⏸️ The queue is paused by an admin: jobs wait until it resumes.' : view.mode === 'draining' ? '\n\n🚧 The bot is draining for maintenance: no new jobs are taken.' : '';
  return {
    embeds: [
      fitEmbed({
        title: 'Queue',
        description: `${mine}${notice}`,
        fields: [
          { name: 'Running', value: String(view.running), inline: true },
          { name: 'Waiting', value: String(view.queued), inline: true },
        ],
      }),
    ],
  };
}
