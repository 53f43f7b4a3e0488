// Autocomplete answers: Discord shows at most 25 choices, each 1-100 characters, and the answer must come within
// 3 s (it cannot be deferred), so this is a pure, fast filter over lists the bot already has.

export interface AutocompleteChoice {
  name: string;
  value: string;
}

const AUTOCOMPLETE_MAX = 25;
const CHOICE_MAX = 100;

/**
 * The values matching what the user typed: prefix matches first, then matches anywhere (also after "/", "_" or
 * "-" in model paths), each group in list order. Values too long for Discord cannot be sent and are skipped.
 */
export function autocompleteChoices(values: readonly string[], typed: string): AutocompleteChoice[] {
  const query = typed.trim().toLowerCase();
  const usable = values.filter((value) => value.length >= 1 && value.length <= CHOICE_MAX);
  const starts: string[] = [];
  const contains: string[] = [];
  for (const value of new Set(usable)) {
    const lower = value.toLowerCase();
    if (lower.startsWith(query)) starts.push(value);
    else if (lower.includes(query)) contains.push(value);
  }
  return [...starts, ...contains].slice(0, AUTOCOMPLETE_MAX).map((value) => ({ name: value, value }));
}
