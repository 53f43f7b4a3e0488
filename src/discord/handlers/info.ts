// `/info` for every member: reads their GPU time from the job store and their limits as admission would.
import { MessageFlags, type ChatInputCommandInteraction } from 'discord.js';
import { guildLimitOverrides } from '../../policy/index.js';
import { gpuPeriods } from '../../scheduler/limits.js';
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
  const { day, month } = gpuPeriods(Date.now());
  const mine = ctx.scheduler.jobs().filter((job) => job.owner.userId === userId);
  const waits = ctx.store
    .listByUser(userId, { limit: RECENT_JOBS })
    .filter((row) => row.startedAt !== null)
    .map((row) => (row.startedAt! - row.createdAt) / 1000);
  const view = {
    gpuTodayMs: ctx.store.gpuMsSince(userId, day.start),
    gpuMonthMs: ctx.store.gpuMsSince(userId, month.start),
    dailyLimitMs: limits.dailyGpuMinutes === undefined ? null : limits.dailyGpuMinutes * 60_000,
    monthlyLimitMs: limits.monthlyGpuMinutes === undefined ? null : limits.monthlyGpuMinutes * 60_000,
    waiting: mine.filter((job) => job.state === 'queued').length,
    running: mine.filter((job) => job.state !== 'queued').length,
    averageWaitSeconds: waits.length === 0 ? null : waits.reduce((a, b) => a + b, 0) / waits.length,
  };
  await interaction.reply({ flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] }, ...renderInfo(view) });
}
