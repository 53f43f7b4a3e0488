// `/info`: the caller's own GPU time (today, this month), what is left of their fast GPU-minute quotas, their
// mode, and their jobs waiting and running with the average wait of their last jobs, as an ephemeral embed.
import type { APIEmbed } from 'discord.js';
import type { JobMode } from '../jobs/job.js';
import { formatDuration } from './cardRenderer.js';

export interface ModeView {
  /** What `/settings mode` says (fast when never set). */
  preferred: JobMode;
  relaxAllowed: boolean;
  /** The mode a job submitted now would run in; null: refused until the fast quota resets (no relax here). */
  next: JobMode | null;
}

export interface InfoView {
  /** GPU time of both modes. */
  gpuTodayMs: number;
  gpuMonthMs: number;
  /** Fast GPU time only: what the quotas count. */
  fastTodayMs: number;
  fastMonthMs: number;
  mode: ModeView;
  /** Null: no quota of that period applies to the member. */
  dailyLimitMs: number | null;
  monthlyLimitMs: number | null;
  waiting: number;
  running: number;
  /** Average seconds the member's last jobs waited before they started; null when none ran yet. */
  averageWaitSeconds: number | null;
}

const seconds = (ms: number): string => formatDuration(ms / 1000);

function left(used: number, limit: number | null, period: string): string {
  if (limit === null) return `no ${period} limit`;
  return `${seconds(Math.max(0, limit - used))} of ${seconds(limit)} left ${period === 'daily' ? 'today' : 'this month'}`;
}

function modeLine({ preferred, relaxAllowed, next }: ModeView): string {
  const here = relaxAllowed ? 'relax is allowed here' : 'relax is not allowed here';
  if (next === null) return `**Mode** fast, and your fast time is used up: ${here}, so new jobs are refused until it resets`;
  if (next === 'relax') return preferred === 'relax' ? `**Mode** relax (your choice: \`/settings mode fast\` to switch) · ${here}` : `**Mode** relax: your fast time is used up · ${here}`;
  return preferred === 'relax' ? `**Mode** fast: you chose relax, but ${here}` : `**Mode** fast · ${here}`;
}

export function renderInfo(view: InfoView): { embeds: APIEmbed[] } {
  const lines = [
    `**GPU time** ${seconds(view.gpuTodayMs)} today · ${seconds(view.gpuMonthMs)} this month (UTC)`,
    `**Fast time** ${left(view.fastTodayMs, view.dailyLimitMs, 'daily')} · ${left(view.fastMonthMs, view.monthlyLimitMs, 'monthly')}`,
    modeLine(view.mode),
    `**Jobs** ${view.waiting} waiting · ${view.running} running`,
    `**Average wait** ${view.averageWaitSeconds === null ? 'no jobs yet' : formatDuration(view.averageWaitSeconds)} (your last jobs)`,
  ];
  return { embeds: [{ title: 'Your usage', description: lines.join('\n'), color: 0x5865f2 }] };
}
