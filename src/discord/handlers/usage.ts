// `/comfy usage`: the top users by GPU time this month (UTC): a server's admins see their own server's, the bot's
// operators may ask for every server's (`everywhere`). Ephemeral; members are shown as mentions that ping no one.
import { MessageFlags, type ChatInputCommandInteraction } from 'discord.js';
import { gpuPeriods } from '../../scheduler/limits.js';
import { formatDuration } from '../cardRenderer.js';
import type { BotContext } from '../wiring/context.js';

const TOP = 15;

export async function handleUsage(ctx: BotContext, interaction: ChatInputCommandInteraction, operator: boolean): Promise<void> {
  const reply = (body: object) => interaction.reply({ flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] }, ...body });
  const everywhere = interaction.options.getBoolean('everywhere') === true;
  if (everywhere && !operator) {
    await reply({ content: "Only the bot's operators can see every server's usage; /comfy usage without options shows this server's." });
    return;
  }
  const sinceMs = gpuPeriods(Date.now()).month.start;
  const rows = ctx.store.topGpuUsers({ sinceMs, limit: TOP, ...(everywhere ? {} : { guildId: interaction.guildId }) });
  const scope = everywhere ? 'all servers' : 'this server';
  const lines = rows.map((r, i) => {
    const where = everywhere ? ` · ${r.guildId === null ? 'DMs' : `server ${r.guildId}`}` : '';
    return `${i + 1}. <@${r.userId}> ${formatDuration(r.gpuMs / 1000)} (${r.jobs} job${r.jobs === 1 ? '' : 's'})${where}`;
  });
  await reply({
    embeds: [{ title: `GPU time this month (UTC), ${scope}`, description: lines.length > 0 ? lines.join('\n') : 'No GPU time used this month yet.', color: 0x5865f2 }],
  });
}
