// Autocomplete: the choices offered for what a user has typed so far. Live lists may be far longer than
// Discord's 25, so they are filtered here and only the best 25 are shown.
import type { ChoiceList, CommandDefinition } from './definition.js';
import { comboOptions, inputSpec, nodeInfoFrom, type ServerInfo } from './server-info.js';

const MAX_SHOWN = 25;
/** Discord's limit on a choice's name and value. */
const MAX_CHOICE_TEXT = 100;

export interface Choice {
  name: string;
  value: string;
}

export type ChoiceSource = ServerInfo;

export async function choicesFor(command: CommandDefinition, optionName: string, source: ChoiceSource, query: string): Promise<Choice[]> {
  const option = command.options.find((candidate) => candidate.name === optionName);
  if (!option || option.type !== 'choice') throw new Error(`/${command.name} has no choice option "${optionName}"`);
  const values = await listValues(option.source, source);
  return filterChoices(values, query);
}

async function listValues(source: ChoiceList, server: ChoiceSource): Promise<string[]> {
  switch (source.kind) {
    case 'fixed':
      return source.choices.map((choice) => choice.name);
    case 'models':
      return server.models(source.folder);
    case 'object_info': {
      const info = nodeInfoFrom(await server.objectInfo(source.nodeClass), source.nodeClass);
      const spec = info && inputSpec(info, source.input);
      const options = spec && comboOptions(spec);
      if (!options) throw new Error(`the server has no list for ${source.nodeClass}.${source.input}`);
      return options;
    }
  }
}

/**
 * Case-insensitive matches, those starting with the query first (each group in list order), at most 25.
 * Values longer than Discord accepts cannot be sent back and are left out.
 */
export function filterChoices(values: readonly string[], query: string): Choice[] {
  const needle = query.trim().toLowerCase();
  const prefix: string[] = [];
  const inner: string[] = [];
  for (const value of values) {
    if (value.length === 0 || value.length > MAX_CHOICE_TEXT) continue;
    const index = value.toLowerCase().indexOf(needle);
    if (index === 0) prefix.push(value);
    else if (index > 0) inner.push(value);
  }
  return [...prefix, ...inner].slice(0, MAX_SHOWN).map((value) => ({ name: value, value }));
}
