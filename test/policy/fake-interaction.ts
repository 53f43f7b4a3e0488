// A plain object with the SettingsInteraction shape, recording replies; and a job store in a temp dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PermissionFlagsBits } from 'discord.js';
import { afterEach, beforeEach } from 'vitest';
import type { OptionValue, SettingsDeps, SettingsInteraction, SettingsReply } from '../../src/discord/settings/interaction.js';
import { openJobStore, type JobStore } from '../../src/jobs/store.js';
import type { CommandDefinition } from '../../src/templates/definition.js';

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

/** The settings handlers' world for one test: a fresh temp store and deps over it and a fixed command set. */
export interface SettingsWorld {
  readonly store: JobStore;
  readonly deps: SettingsDeps;
}

/** Registers beforeEach/afterEach that give every test its own store; read it through the returned object inside tests. */
export function useSettingsWorld(commands: ReadonlyMap<string, CommandDefinition>): SettingsWorld {
  let current: { store: JobStore; cleanup(): void; deps: SettingsDeps } | undefined;
  beforeEach(() => {
    const { store, cleanup } = tempStore();
    current = { store, cleanup, deps: { store, commands: () => commands, relaxDefault: false } };
  });
  afterEach(() => {
    current?.cleanup();
    current = undefined;
  });
  const now = () => {
    if (!current) throw new Error('The settings store exists only while a test runs');
    return current;
  };
  return {
    get store() {
      return now().store;
    },
    get deps() {
      return now().deps;
    },
  };
}
