// The slice of a discord.js ChatInputCommandInteraction the settings handlers use, so they run against a plain
// object in tests. A real interaction satisfies it as is (checked in interaction.test.ts by the compiler).
import { MessageFlags } from 'discord.js';
import { StoreError } from '../../jobs/store-errors.js';
import type { JobStore } from '../../jobs/store.js';
import type { CommandDefinition } from '../../templates/definition.js';
import { truncate } from '../embedLimits.js';
import type { InteractionMemberLike } from '../permissions.js';

export type OptionValue = string | number | boolean;

export interface SettingsReply {
  content: string;
  flags: number;
  allowedMentions: { parse: [] };
}

export interface SettingsInteraction {
  user: { id: string };
  guildId: string | null;
  member: InteractionMemberLike | null;
  /** The member's permissions in the channel; null in DMs. */
  memberPermissions: { bitfield: bigint } | null;
  options: {
    getSubcommandGroup(required?: boolean): string | null;
    getSubcommand(required?: boolean): string;
    get(name: string, required?: boolean): { value?: OptionValue } | null;
  };
  reply(options: SettingsReply): Promise<unknown>;
}

export type SettingsStore = Pick<JobStore, 'guildSettings' | 'setGuildSettings' | 'userDefaults' | 'setUserDefaults' | 'userMode' | 'setUserMode'>;

export interface SettingsDeps {
  store: SettingsStore;
  /** The commands loaded now (a function, because command files reload). */
  commands: () => ReadonlyMap<string, CommandDefinition>;
  /** Whether relax mode is allowed where a server has not said (the config's `relax.allowed`; also DMs). */
  relaxDefault: boolean;
}

const MESSAGE_MAX = 2000;

/** Every answer is ephemeral and pings nobody: mentions of roles and channels are for reading only. */
export function reply(interaction: SettingsInteraction, content: string): Promise<unknown> {
  return interaction.reply({ content: truncate(content, MESSAGE_MAX), flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
}

/** A user-facing refusal; handlers throw it and the dispatcher turns it into the reply. */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

/**
 * Replies with what `produce` returns, or with the sentence of a SettingsError or StoreError (the store names the
 * setting it refused); anything else is a bug and propagates.
 */
export async function answer(interaction: SettingsInteraction, produce: () => string | Promise<string>): Promise<void> {
  let content: string;
  try {
    content = await produce();
  } catch (error) {
    if (error instanceof SettingsError) content = error.message;
    else if (error instanceof StoreError) content = `Not saved: ${error.message}`;
    else throw error;
  }
  await reply(interaction, content);
}

export function optionalString(interaction: SettingsInteraction, name: string): string | undefined {
  const value = interaction.options.get(name)?.value;
  return typeof value === 'string' ? value : undefined;
}

export function requiredString(interaction: SettingsInteraction, name: string): string {
  const value = optionalString(interaction, name);
  if (value === undefined || value.trim() === '') throw new SettingsError(`Please give ${name}.`);
  return value;
}

export function optionalNumber(interaction: SettingsInteraction, name: string): number | undefined {
  const value = interaction.options.get(name)?.value;
  return typeof value === 'number' ? value : undefined;
}

export function optionalBoolean(interaction: SettingsInteraction, name: string): boolean | undefined {
  const value = interaction.options.get(name)?.value;
  return typeof value === 'boolean' ? value : undefined;
}

/** The command named by the `command` option, as loaded now; accepts "/imagine" as well as "imagine". */
export function commandNamed(deps: SettingsDeps, name: string): CommandDefinition {
  const clean = name.trim().replace(/^\//, '');
  const command = deps.commands().get(clean);
  if (!command) throw new SettingsError(`There is no command /${truncate(clean, 40)}.`);
  return command;
}
