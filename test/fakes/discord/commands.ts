import { formError } from './errors.js';
import type { SnowflakeFactory } from './ids.js';
import { commandListErrors } from './validation.js';

type Json = Record<string, unknown>;

export interface CommandScope {
  commands: Json[];
  /** How many bulk overwrites (PUTs) reached this scope, so tests can assert "registered once, not on every boot". */
  registrations: number;
}

/** Application commands per scope ('global' or a guild id), overwritten in bulk like Discord's PUT. */
export class CommandRegistry {
  readonly #scopes = new Map<string, CommandScope>();

  constructor(
    private readonly ids: SnowflakeFactory,
    private readonly applicationId: string,
  ) {}

  scope(guildId?: string): CommandScope {
    const key = guildId ?? 'global';
    let scope = this.#scopes.get(key);
    if (!scope) {
      scope = { commands: [], registrations: 0 };
      this.#scopes.set(key, scope);
    }
    return scope;
  }

  overwrite(body: unknown, guildId?: string): Json[] {
    const errors = commandListErrors(body);
    if (errors.length > 0) throw formError(errors);
    const scope = this.scope(guildId);
    const previous = scope.commands;
    scope.commands = (body as Json[]).map((input) => {
      const type = input['type'] ?? 1;
      const kept = previous.find((c) => c['name'] === input['name'] && c['type'] === type);
      return {
        default_member_permissions: null,
        dm_permission: true,
        nsfw: false,
        contexts: null,
        integration_types: [0],
        options: [],
        ...input,
        type,
        description: input['description'] ?? '',
        id: kept?.['id'] ?? this.ids.next(),
        application_id: this.applicationId,
        version: this.ids.next(),
        ...(guildId === undefined ? {} : { guild_id: guildId }),
      };
    });
    scope.registrations += 1;
    return scope.commands;
  }

  /** The chat-input command a user would invoke in `guildId` (or a DM): guild commands shadow global ones. */
  find(name: string, guildId: string | undefined): Json | undefined {
    const match = (c: Json) => c['name'] === name && c['type'] === 1;
    const inGuild = guildId === undefined ? undefined : this.#scopes.get(guildId)?.commands.find(match);
    return inGuild ?? this.#scopes.get('global')?.commands.find(match);
  }
}

const BOT_DM_CONTEXT = 1;

/** `contexts` wins when set; otherwise the older `dm_permission` (default true) decides. */
export function usableInDms(command: Json): boolean {
  const contexts = command['contexts'];
  if (Array.isArray(contexts)) return contexts.includes(BOT_DM_CONTEXT);
  return command['dm_permission'] !== false;
}
