// `/info` for every member: reads their GPU time from the job store and their limits as admission would.
import { MessageFlags, type ChatInputCommandInteraction } from 'discord.js';
import { guildLimitOverrides, modeRequest } from '../../policy/index.js';
import { gpuPeriods, LimitError } from '../../scheduler/limits.js';
import { decideMode } from '../../scheduler/relax.js';
import { renderInfo } from '../infoReply.js';
import { accessOf } from '../wiring/access.js';
import type { BotContext } from '../wiring/context.js';

/** The member's last jobs whose wait is averaged. */
const RECENT_JOBS = 20;

export async function handleInfo(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> {
  const userId = interaction.user.id;
  const guildId = interaction.guildId;
  const owner = { userId, guildId, roles: [...(accessOf(interaction)?.roleIds ?? [])] };
  const settings = guildId ? ctx.store.guildSettings(guildId) : null;
  const limits = ctx.scheduler.limitsFor({ owner, command: '', ...(settings && guildId ? { limitOverrides: guildLimitOverrides(guildId, settings) } : {}) });
  const now = Date.now();
  const { day, month } = gpuPeriods(now);
  const request = modeRequest(ctx.store, userId, settings, ctx.config.relax.allowed);
  let next: 'fast' | 'relax' | null;
  try {
    next = decideMode(ctx.store, userId, limits, request, now);
  } catch (error) {
    if (!(error instanceof LimitError)) throw error;
    next = null;
  }
  const mine = ctx.scheduler.jobs().filter((job) => job.owner.userId === userId);
  const waits = ctx.store
    .listByUser(userId, { limit: RECENT_JOBS })
    .filter((row) => row.startedAt !== null)
    .map((row) => (row.startedAt! - row.createdAt) / 1000);
  const view = {
    gpuTodayMs: ctx.store.gpuMsSince(userId, day.start),
    gpuMonthMs: ctx.store.gpuMsSince(userId, month.start),
    fastTodayMs: ctx.store.gpuMsSince(userId, day.start, 'fast'),
    fastMonthMs: ctx.store.gpuMsSince(userId, month.start, 'fast'),
    mode: { ...request, next },
    dailyLimitMs: limits.dailyGpuMinutes === undefined ? null : limits.dailyGpuMinutes * 60_000,
    monthlyLimitMs: limits.monthlyGpuMinutes === undefined ? null : limits.monthlyGpuMinutes * 60_000,
    waiting: mine.filter((job) => job.state === 'queued').length,
    running: mine.filter((job) => job.state !== 'queued').length,
    averageWaitSeconds: waits.length === 0 ? null : waits.reduce((a, b) => a + b, 0) / waits.length,
  };
  await interaction.reply({ flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] }, ...renderInfo(view) });
}
