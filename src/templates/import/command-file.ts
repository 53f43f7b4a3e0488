// The files `comfycord import --write` produces: the template (API format, integers beyond 2^53-1 already decimal
// strings) and the command file in the format of commands/README.md.
import { stringify } from 'yaml';
import type { ApiWorkflow } from '../../comfy/types.js';
import type { CommandFile } from '../file-schema.js';
import { NAME_PATTERN } from '../file-schema.js';
import type { ProposedOption } from './propose.js';

/** Discord allows at most 25 options per command. */
export const MAX_OPTIONS = 25;

/** A command name from a file name ("Fox Video.ui.json" → "fox-video"): lower case, Discord's characters, at most 32. */
export function commandNameFrom(fileName: string): string {
  const stem = fileName.replace(/(\.(ui|api))?\.[^.]*$/i, '').toLowerCase();
  return stem.replace(/[^-_\p{L}\p{N}]+/gu, '-').replace(/^-+|-+$/g, '').slice(0, 32) || 'workflow';
}

export function isCommandName(name: string): boolean {
  return NAME_PATTERN.test(name) && name === name.toLowerCase();
}

export function templateText(workflow: ApiWorkflow): string {
  return `${JSON.stringify(workflow, null, 2)}\n`;
}

/** `origin` says what proposed it ("comfycord import fox.json"), for the file's first comment line. */
export function commandFileText(name: string, origin: string, options: readonly ProposedOption[], description = `Run the ${name} workflow`): string {
  const file: CommandFile = {
    name,
    description: description.slice(0, 100),
    template: `${name}.json`,
    options: options.map((entry) => entry.option),
  };
  return `# /${name}, proposed by \`${origin}\`; edit freely (format: commands/README.md).\n${stringify(file)}`;
}
