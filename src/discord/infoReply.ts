// `/info`: the caller's own GPU time (today, this month), what is left of their GPU-minute quotas, and their jobs
// waiting and running with the average wait of their last jobs, as an ephemeral embed.
import type { APIEmbed } from 'discord.js';
import { formatDuration } from './cardRenderer.js';

export interface InfoView {
  gpuTodayMs: number;
  gpuMonthMs: number;
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

export function renderInfo(view: InfoView): { embeds: APIEmbed[] } {
  const lines = [
    `**GPU time** ${seconds(view.gpuTodayMs)} today · ${seconds(view.gpuMonthMs)} this month (UTC)`,
    `**Fast time** ${left(view.gpuTodayMs, view.dailyLimitMs, 'daily')} · ${left(view.gpuMonthMs, view.monthlyLimitMs, 'monthly')}`,
    `**Jobs** ${view.waiting} waiting · ${view.running} running`,
    `**Average wait** ${view.averageWaitSeconds === null ? 'no jobs yet' : formatDuration(view.averageWaitSeconds)} (your last jobs)`,
  ];
  return { embeds: [{ title: 'Your usage', description: lines.join('\n'), color: 0x5865f2 }] };
}
