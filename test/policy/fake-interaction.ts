// A plain object with the SettingsInteraction shape, recording replies; and a job store in a temp dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PermissionFlagsBits } from 'discord.js';
import type { OptionValue, SettingsInteraction, SettingsReply } from '../../src/discord/settings/interaction.js';
import { openJobStore, type JobStore } from '../../src/jobs/store.js';

export interface FakeInteractionInput {
  subcommand: string;
  group?: string;
  options?: Record<string, OptionValue | undefined>;
  userId?: string;
  guildId?: string | null;
  roles?: string[];
  /** Default: Manage Server. */
  permissions?: bigint;
}

export type FakeInteraction = SettingsInteraction & { replies: SettingsReply[]; lastReply(): string };

export function fakeInteraction(input: FakeInteractionInput): FakeInteraction {
  const replies: SettingsReply[] = [];
  const guildId = input.guildId === undefined ? '1' : input.guildId;
  const permissions = input.permissions ?? PermissionFlagsBits.ManageGuild;
  const userId = input.userId ?? '42';
  return {
    user: { id: userId },
    guildId,
    member: guildId === null ? null : { user: { id: userId }, roles: input.roles ?? [], permissions: permissions.toString() },
    memberPermissions: guildId === null ? null : { bitfield: permissions },
    options: {
      getSubcommandGroup: () => input.group ?? null,
      getSubcommand: () => input.subcommand,
      get: (name) => {
        const value = input.options?.[name];
        return value === undefined ? null : { value };
      },
    },
    reply: async (options) => {
      replies.push(options);
    },
    replies,
    lastReply: () => replies.at(-1)?.content ?? '(no reply)',
  };
}

export function tempStore(): { store: JobStore; cleanup(): void } {
  const dataDir = mkdtempSync(join(tmpdir(), 'comfycord-settings-'));
  const store = openJobStore({ dataDir });
  return {
    store,
    cleanup: () => {
      store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
