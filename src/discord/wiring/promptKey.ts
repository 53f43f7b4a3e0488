// Which option of a command is "the prompt": shown as the card's text and changed by the Edit button.
import type { CommandDefinition } from '../../templates/definition.js';

/** The visible string option named `prompt`, else the first required visible string option, else none. */
export function promptKeyOf(definition: CommandDefinition): string | null {
  const strings = definition.options.filter((option) => option.type === 'string' && !option.hidden);
  return (strings.find((option) => option.name === 'prompt') ?? strings.find((option) => option.required))?.name ?? null;
}

/** Integer options drawn at random per job (seeds): left out when a job is rerolled so a new value is drawn. */
export function randomOptionsOf(definition: CommandDefinition): string[] {
  return definition.options.filter((option) => option.type === 'integer' && option.default === 'random').map((option) => option.name);
}
