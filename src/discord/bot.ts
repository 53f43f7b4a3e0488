// The discord.js client: log in with only the Guilds intent, register the slash commands when they changed (and
// again when command files change), and route every interaction to its handler.
import { once } from 'node:events';
import { Client, GatewayIntentBits, MessageFlags, type Interaction, type RESTOptions } from 'discord.js';
import { countRateLimits } from '../ops/instrument.js';
import { attachmentOrigins } from './attachmentDownload.js';
import { ChannelPacers } from './channelPacer.js';
import { handleAutocomplete } from './handlers/autocomplete.js';
import { handleBuiltin } from './handlers/builtins.js';
import { handleButton, handleModal } from './handlers/buttons.js';
import { handleTemplateCommand } from './handlers/command.js';
import { Drafts } from './serverCommands/draft.js';
import { handleDraftComponent } from './serverCommands/handlers.js';
import { guildPayloads, syncGuildCommands } from './serverCommands/registration.js';
import { botCacheFactory } from './clientCaches.js';
import { readOperators } from './operators.js';
import { discordRequest } from './restRequest.js';
import { enforceAllowedGuilds, isAllowedGuild } from './wiring/allowedGuilds.js';
import { commandFor, type BotContext } from './wiring/context.js';
import { startDeliveryRetry } from './wiring/deliveryRetry.js';
import { abandonDelivery, deliverPending } from './wiring/recoveredCards.js';
import { desiredCommands, syncCommands } from './wiring/registration.js';

export type BotServices = Omit<BotContext, 'client' | 'pacer' | 'cards' | 'delivering' | 'operators' | 'imageInputs' | 'drafts'>;

export interface Bot {
  readonly context: BotContext;
  readonly connected: boolean;
  /** Tries pending deliveries again from now on; only where jobs run (the only process, or the leader). */
  startDeliveryRetry(): void;
  /** Logs out; job cards still being followed are left to the store (recovery picks them up). */
  stop(): Promise<void>;
}

export class BotStartError extends Error {
  override readonly name = 'BotStartError';
}

export async function startBot(services: BotServices): Promise<Bot> {
  const { config, logger } = services;
  const token = config.discord.token;
  if (token === undefined) throw new BotStartError('DISCORD_TOKEN is not set');
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    makeCache: botCacheFactory(),
    // The project's undici, not discord.js's bundled undici 6 nor Node's fetch: see restRequest.ts.
    rest: { api: config.discord.apiUrl, makeRequest: discordRequest as unknown as RESTOptions['makeRequest'] },
    // Several processes split the gateway shards between them (COMFYCORD_SHARDS / COMFYCORD_SHARD_COUNT).
    ...(config.cluster.shards !== undefined ? { shards: config.cluster.shards } : {}),
    ...(config.cluster.shardCount !== undefined ? { shardCount: config.cluster.shardCount } : {}),
  });
  const pacers = new ChannelPacers();
  const ctx: BotContext = {
    ...services,
    client,
    pacer: (channelId) => pacers.for(channelId),
    cards: new Set(),
    drafts: new Drafts(),
    delivering: new Set(),
    // Until Discord has been asked who owns the application (right after login).
    operators: new Set(config.discord.operatorIds),
    imageInputs: { store: services.store, origins: attachmentOrigins(config.discord.apiUrl) },
  };
  client.on('interactionCreate', (interaction) => void route(ctx, interaction));
  client.on('error', (error) => logger.error({ err: error }, 'discord client error'));
  countRateLimits(client.rest, ctx.metrics);

  const ready = once(client, 'clientReady');
  try {
    await client.login(token);
    await ready;
  } catch (error) {
    await client.destroy();
    throw new BotStartError(`could not log in to Discord at ${config.discord.apiUrl}: ${error instanceof Error ? error.message : String(error)}`);
  }
  ctx.operators = await readOperators(client.rest, config.discord.operatorIds, logger);
  const stopGuildWatch = enforceAllowedGuilds(client, config.discord.allowedGuilds, logger);
  // Servers' own commands go to their guild; in DISCORD_GUILD_ID they share the one list with the bot's.
  const register = async () => {
    const devGuild = config.discord.guildId;
    await syncCommands(
      { rest: client.rest, applicationId: client.application!.id, guildId: devGuild },
      devGuild === undefined ? desiredCommands(ctx.registry.commands.values(), ctx.backends.map((b) => b.name), logger) : guildPayloads(ctx, devGuild),
      logger,
    );
    for (const guildId of ctx.guildCommands.guildIds()) {
      if (guildId === devGuild) continue;
      // One server's refusal (the bot was removed from it, say) must not keep the bot from starting for the others.
      await syncGuildCommands(ctx, guildId).catch((error: unknown) => logger.error({ err: error, guild: guildId }, "registering a server's own commands failed"));
    }
  };
  try {
    await register();
  } catch (error) {
    await client.destroy();
    throw new BotStartError(`could not register the slash commands: ${error instanceof Error ? error.message : String(error)}`);
  }
  const onChanged = () => void register().catch((error: unknown) => logger.error({ err: error }, 're-registering slash commands failed'));
  ctx.registry.on('changed', onChanged);
  logger.info({ user: client.user?.tag, guild: config.discord.guildId ?? null }, 'discord bot ready');
  let retry: { stop(): void } | undefined;
  return {
    context: ctx,
    get connected() {
      return client.isReady();
    },
    startDeliveryRetry() {
      retry ??= startDeliveryRetry(
        ctx,
        { deliver: (row) => deliverPending(ctx, row), giveUp: (row, reason) => abandonDelivery(ctx, row, reason) },
        {
          firstDelayMs: config.jobs.deliveryRetrySeconds * 1000,
          maxDelayMs: Math.max(config.jobs.deliveryRetrySeconds * 1000, 10 * 60_000),
          maxLostTries: config.jobs.deliveryTries,
          maxAgeMs: config.jobs.deliveryHours * 3_600_000,
        },
      );
    },
    async stop() {
      retry?.stop();
      stopGuildWatch();
      ctx.registry.off('changed', onChanged);
      await client.destroy();
    },
  };
}

async function route(ctx: BotContext, interaction: Interaction): Promise<void> {
  try {
    if (!isAllowedGuild(ctx.config.discord.allowedGuilds, interaction.guildId)) {
      // Between being added to a server and leaving it, nobody there gets to use the bot.
      if (interaction.isRepliable()) await interaction.reply({ content: 'This bot is private and does not serve this server.', flags: MessageFlags.Ephemeral });
      return;
    }
    if (interaction.isAutocomplete()) return await handleAutocomplete(ctx, interaction);
    if ((interaction.isButton() || interaction.isStringSelectMenu() || interaction.isModalSubmit()) && (await handleDraftComponent(ctx, interaction))) return;
    if (interaction.isButton()) return await handleButton(ctx, interaction);
    if (interaction.isModalSubmit()) return await handleModal(ctx, interaction);
    if (!interaction.isChatInputCommand()) return;
    if (await handleBuiltin(ctx, interaction)) return;
    const definition = commandFor(ctx, interaction.guildId, interaction.commandName);
    if (!definition) {
      await interaction.reply({ content: `/${interaction.commandName} is not available any more.`, flags: MessageFlags.Ephemeral });
      return;
    }
    await handleTemplateCommand(ctx, interaction, definition);
  } catch (error) {
    ctx.logger.error({ err: error, interaction: interaction.id, type: interaction.type }, 'interaction handler failed');
    if (!interaction.isRepliable()) return;
    const content = 'Something went wrong on the bot side; the error is logged. Please try again.';
    const reply = interaction.deferred || interaction.replied ? interaction.followUp({ content, flags: MessageFlags.Ephemeral }) : interaction.reply({ content, flags: MessageFlags.Ephemeral });
    await reply.catch(() => undefined);
  }
}
