// Everything an interaction handler may use, built once by bot.ts. Handlers receive it rather than importing
// singletons, so each piece can be replaced in a test.
import type { Client } from 'discord.js';
import type { ComfyClient } from '../../comfy/client.js';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../config/logger.js';
import type { JobStore } from '../../jobs/store.js';
import type { PreviewEncoder } from '../../media/preview.js';
import type { Metrics } from '../../ops/metrics.js';
import type { Scheduler } from '../../scheduler/scheduler.js';
import type { CommandDefinition } from '../../templates/definition.js';
import type { Drafts } from '../serverCommands/draft.js';
import { lookupCommand, type GuildCommandSet } from '../../templates/guild-commands.js';
import type { CommandRegistry } from '../../templates/registry.js';
import type { ChannelPacer } from '../channelPacer.js';
import type { ImageInputDeps } from '../imageInputs.js';
import type { JobCanceller } from './canceller.js';
import type { JobIntake } from './intake.js';
import type { HoldControl } from '../../cluster/holds.js';
import type { QueueSource } from '../../cluster/job-views.js';

export interface BackendHandle {
  name: string;
  /** Which API the bot speaks to it: ComfyUI's own, or Comfy API v2. */
  api: 'classic' | 'v2';
  /** ComfyUI's own routes (status, lists, re-downloads); absent for a v2 endpoint with no classic URL configured. */
  client: ComfyClient | undefined;
  readonly healthy: boolean;
}

export interface BotContext {
  config: Config;
  logger: Logger;
  client: Client;
  scheduler: Scheduler;
  /** Where accepted submissions go: this scheduler (one process) or the store and the leader (several). */
  intake: JobIntake;
  /** Where an allowed Cancel goes: this scheduler (one process) or the job's row and the leader (several). */
  canceller: JobCanceller;
  /** `/comfy pause|resume|drain`: kept in memory (one process) or in the store for every process (several). */
  holds: HoldControl;
  /** What /queue and /comfy status show: this scheduler (one process, the leader) or the store (a standby). */
  queue: QueueSource;
  store: JobStore;
  registry: CommandRegistry;
  /** Servers' own commands (`/comfy command add`); look names up with `commandFor`. */
  guildCommands: GuildCommandSet;
  /** Server commands being added: the proposals admins are still adjusting. */
  drafts: Drafts;
  backends: readonly BackendHandle[];
  previews: PreviewEncoder;
  metrics: Metrics;
  /** One pacer per channel, shared by every card in it. */
  pacer(channelId: string | null): ChannelPacer;
  /** Who pressed Cancel on which job, so the card can say so. */
  cancelledBy: Map<string, string>;
  /** User ids of the bot's operators (see operators.ts): they alone control the whole bot and the backends. */
  operators: ReadonlySet<string>;
  /** Card jobs still being followed (their final card not yet delivered); stop() waits for them. */
  cards: Set<Promise<unknown>>;
  /** Jobs whose results are being posted right now; the retry of pending deliveries skips them. */
  delivering: Set<string>;
  /** Where image inputs are downloaded from and saved to. */
  imageInputs: ImageInputDeps;
}

/** The command a name means where the interaction happens: a global one, else that server's own. */
export function commandFor(ctx: Pick<BotContext, 'registry' | 'guildCommands'>, guildId: string | null, name: string): CommandDefinition | undefined {
  return lookupCommand(ctx.registry.commands, ctx.guildCommands, guildId, name);
}

/** Every command usable in a server: the global ones, then that server's own that no global one hides. */
export function commandsIn(ctx: Pick<BotContext, 'registry' | 'guildCommands'>, guildId: string | null): ReadonlyMap<string, CommandDefinition> {
  if (guildId === null) return ctx.registry.commands;
  const all = new Map(ctx.registry.commands);
  for (const definition of ctx.guildCommands.commandsOf(guildId)) if (!all.has(definition.name)) all.set(definition.name, definition);
  return all;
}
