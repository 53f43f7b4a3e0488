// Commands a server's admins added from Discord (`/comfy command add`), kept in the job store as text and compiled
// here like command files on disk. A server's command lives in that server only; a global command (commands/)
// of the same name wins, and the server's is then held back and listed as hidden.
import type { CommandDefinition } from './definition.js';
import { compileCommand, parseCommandFile } from './compile.js';
import { formatProblem, type Problem } from './errors.js';
import { parseApiWorkflow } from './workflow.js';

/** A stored server command as text (the job store's row, without its bookkeeping). */
export interface StoredGuildCommand {
  guildId: string;
  name: string;
  commandFile: string;
  template: string;
}

/** Where the command file of a server's command is said to be, for messages ("guild 123/fox.yaml"). */
export function guildCommandFile(guildId: string, name: string): string {
  return `guild ${guildId}/${name}.yaml`;
}

/** Compiles one stored command; either its definition or every problem found. */
export function compileGuildCommand(stored: StoredGuildCommand): { ok: true; value: CommandDefinition } | { ok: false; problems: Problem[] } {
  const file = guildCommandFile(stored.guildId, stored.name);
  const parsed = parseCommandFile(file, stored.commandFile);
  if (!parsed.ok) return parsed;
  let workflow;
  try {
    workflow = parseApiWorkflow(stored.template);
  } catch (error) {
    return { ok: false, problems: [{ file, message: `template: ${(error as Error).message}` }] };
  }
  if (parsed.value.name !== stored.name) return { ok: false, problems: [{ file, message: `the command file names /${parsed.value.name}, stored as /${stored.name}` }] };
  return compileCommand(file, parsed.value, workflow);
}

/** The command a name means in a server: the global one (commands/) first, else the server's own. */
export function lookupCommand(global: ReadonlyMap<string, CommandDefinition>, own: GuildCommandSet, guildId: string | null, name: string): CommandDefinition | undefined {
  return global.get(name) ?? own.get(guildId, name);
}

/** Every server's own commands, compiled; the bot asks it for a server's command by name. */
export class GuildCommandSet {
  readonly #byGuild = new Map<string, Map<string, CommandDefinition>>();

  /** Compiles the stored commands; the broken ones are returned (and left out) rather than thrown. */
  static from(rows: readonly StoredGuildCommand[]): { set: GuildCommandSet; problems: string[] } {
    const set = new GuildCommandSet();
    const problems: string[] = [];
    for (const row of rows) {
      const compiled = compileGuildCommand(row);
      if (compiled.ok) set.put(row.guildId, compiled.value);
      else problems.push(...compiled.problems.map(formatProblem));
    }
    return { set, problems };
  }

  put(guildId: string, definition: CommandDefinition): void {
    let commands = this.#byGuild.get(guildId);
    if (!commands) this.#byGuild.set(guildId, (commands = new Map()));
    commands.set(definition.name, definition);
  }

  remove(guildId: string, name: string): void {
    this.#byGuild.get(guildId)?.delete(name);
  }

  get(guildId: string | null, name: string): CommandDefinition | undefined {
    return guildId === null ? undefined : this.#byGuild.get(guildId)?.get(name);
  }

  commandsOf(guildId: string): CommandDefinition[] {
    return [...(this.#byGuild.get(guildId)?.values() ?? [])];
  }

  guildIds(): string[] {
    return [...this.#byGuild.keys()];
  }
}
