// Adapts the templates room's CommandDefinition to the plain CommandInput that commandPayloads builds from.
import type { CommandDefinition, OptionDefinition } from '../templates/definition.js';
import type { CommandInput, CommandOptionInput } from './commandPayloads.js';

function toNumber(value: bigint | number | undefined): number | undefined {
  // Discord cannot carry integers beyond ±(2^53 - 1); commandPayloads clamps, this only converts.
  return value === undefined ? undefined : Number(value);
}

function optionInput(option: OptionDefinition): CommandOptionInput {
  const base = { name: option.name, description: option.description, required: option.required };
  switch (option.type) {
    case 'string':
      return { ...base, type: 'string', min_length: option.minLength, max_length: option.maxLength };
    case 'integer':
      return { ...base, type: 'integer', min: toNumber(option.min), max: toNumber(option.max) };
    case 'number':
      return { ...base, type: 'number', min: option.min, max: option.max };
    case 'boolean':
      return { ...base, type: 'boolean' };
    case 'image':
      return { ...base, type: 'image' };
    case 'choice': {
      const source = option.source;
      if (source.kind === 'fixed') return { ...base, type: 'choice', choices: source.choices.map((choice) => choice.name) };
      const from = source.kind === 'models' ? `models/${source.folder}` : `object_info/${source.nodeClass}/${source.input}`;
      return { ...base, type: 'choice', choices_from: from };
    }
  }
}

/** Hidden options are fixed by the command file and never reach Discord. */
export function commandInputFrom(definition: CommandDefinition): CommandInput {
  return {
    name: definition.name,
    description: definition.description,
    guild_only: definition.guildOnly,
    options: definition.options.filter((option) => !option.hidden).map(optionInput),
  };
}
