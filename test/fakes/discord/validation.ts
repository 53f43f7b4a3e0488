import type { FieldError } from './errors.js';

type Json = Record<string, unknown>;
type Path = ReadonlyArray<string | number>;

const NAME_PATTERN = /^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
const SUBCOMMAND = 1;
const SUBCOMMAND_GROUP = 2;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function lengthError(path: Path, value: unknown, min: number, max: number): FieldError | undefined {
  if (typeof value !== 'string') return { path, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' };
  if (value.length < min || value.length > max) {
    return { path, code: 'BASE_TYPE_BAD_LENGTH', message: `Must be between ${min} and ${max} in length.` };
  }
  return undefined;
}

function nameErrors(path: Path, name: unknown): FieldError[] {
  const bad = lengthError(path, name, 1, 32);
  if (bad) return [bad];
  const text = name as string;
  if (!NAME_PATTERN.test(text) || text !== text.toLowerCase()) {
    return [{ path, code: 'APPLICATION_COMMAND_INVALID_NAME', message: `Command name is invalid: '${text}' must be lowercase letters, digits, - or _.` }];
  }
  return [];
}

function optionErrors(path: Path, options: unknown): FieldError[] {
  if (options === undefined || options === null) return [];
  if (!Array.isArray(options)) return [{ path, code: 'BASE_TYPE_ARRAY', message: 'Must be an array.' }];
  const errors: FieldError[] = [];
  if (options.length > 25) errors.push({ path, code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' });
  const seen = new Set<string>();
  options.forEach((option: unknown, index) => {
    const at = [...path, index];
    if (!isObject(option)) {
      errors.push({ path: at, code: 'MODEL_TYPE_CONVERT', message: 'Only dictionaries may be used in a ModelType' });
      return;
    }
    errors.push(...nameErrors([...at, 'name'], option['name']));
    const badDescription = lengthError([...at, 'description'], option['description'], 1, 100);
    if (badDescription) errors.push(badDescription);
    if (typeof option['name'] === 'string') {
      if (seen.has(option['name'])) {
        errors.push({ path: [...at, 'name'], code: 'APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS', message: 'Option names must be unique' });
      }
      seen.add(option['name']);
    }
    const choices = option['choices'];
    if (Array.isArray(choices)) {
      if (choices.length > 25) {
        errors.push({ path: [...at, 'choices'], code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' });
      }
      choices.forEach((choice: unknown, ci) => {
        const bad = lengthError([...at, 'choices', ci, 'name'], isObject(choice) ? choice['name'] : undefined, 1, 100);
        if (bad) errors.push(bad);
      });
      if (option['autocomplete'] === true && choices.length > 0) {
        errors.push({
          path: [...at, 'autocomplete'],
          code: 'APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_AND_CHOICES',
          message: 'Autocomplete cannot be set for options with choices.',
        });
      }
    }
    if (option['type'] === SUBCOMMAND || option['type'] === SUBCOMMAND_GROUP) {
      errors.push(...optionErrors([...at, 'options'], option['options']));
    }
  });
  return errors;
}

/** Discord's rules for a bulk overwrite of application commands; an empty result means the body is valid. */
export function commandListErrors(body: unknown): FieldError[] {
  if (!Array.isArray(body)) return [{ path: [], code: 'BASE_TYPE_ARRAY', message: 'Must be an array of commands.' }];
  const errors: FieldError[] = [];
  if (body.length > 100) errors.push({ path: [], code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 100 or fewer in length.' });
  const seen = new Set<string>();
  body.forEach((command: unknown, index) => {
    if (!isObject(command)) {
      errors.push({ path: [index], code: 'MODEL_TYPE_CONVERT', message: 'Only dictionaries may be used in a ModelType' });
      return;
    }
    const type = command['type'] ?? 1;
    if (type === 1) {
      errors.push(...nameErrors([index, 'name'], command['name']));
      const bad = lengthError([index, 'description'], command['description'], 1, 100);
      if (bad) errors.push(bad);
      errors.push(...optionErrors([index, 'options'], command['options']));
    } else {
      const bad = lengthError([index, 'name'], command['name'], 1, 32);
      if (bad) errors.push(bad);
    }
    const key = `${String(type)}:${String(command['name'])}`;
    if (seen.has(key)) {
      errors.push({ path: [index, 'name'], code: 'APPLICATION_COMMANDS_DUPLICATE_NAME', message: `Application command names must be unique` });
    }
    seen.add(key);
  });
  return errors;
}

const EMBED_TEXT_LIMITS: ReadonlyArray<[readonly string[], number]> = [
  [['title'], 256],
  [['description'], 4096],
  [['footer', 'text'], 2048],
  [['author', 'name'], 256],
];

function textAt(value: unknown, keys: readonly string[]): string | undefined {
  let node = value;
  for (const key of keys) node = isObject(node) ? node[key] : undefined;
  return typeof node === 'string' ? node : undefined;
}

function tooLong(path: Path, max: number): FieldError {
  return { path, code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${max} or fewer in length.` };
}

function embedErrors(embeds: unknown): FieldError[] {
  if (embeds === undefined || embeds === null) return [];
  if (!Array.isArray(embeds)) return [{ path: ['embeds'], code: 'BASE_TYPE_ARRAY', message: 'Must be an array.' }];
  const errors: FieldError[] = [];
  if (embeds.length > 10) errors.push(tooLong(['embeds'], 10));
  let total = 0;
  embeds.forEach((embed: unknown, index) => {
    for (const [keys, max] of EMBED_TEXT_LIMITS) {
      const text = textAt(embed, keys);
      if (text === undefined) continue;
      total += text.length;
      if (text.length > max) errors.push(tooLong(['embeds', index, ...keys], max));
    }
    const fields = isObject(embed) ? embed['fields'] : undefined;
    if (!Array.isArray(fields)) return;
    if (fields.length > 25) errors.push(tooLong(['embeds', index, 'fields'], 25));
    fields.forEach((field: unknown, fi) => {
      const name = textAt(field, ['name']) ?? '';
      const value = textAt(field, ['value']) ?? '';
      total += name.length + value.length;
      if (name.length > 256) errors.push(tooLong(['embeds', index, 'fields', fi, 'name'], 256));
      if (value.length > 1024) errors.push(tooLong(['embeds', index, 'fields', fi, 'value'], 1024));
    });
  });
  if (total > 6000) {
    errors.push({ path: ['embeds'], code: 'MESSAGE_EMBEDS_TOO_LONG', message: `Embed size exceeds maximum size of 6000 (got ${total}).` });
  }
  return errors;
}

function componentErrors(components: unknown): FieldError[] {
  if (components === undefined || components === null) return [];
  if (!Array.isArray(components)) return [{ path: ['components'], code: 'BASE_TYPE_ARRAY', message: 'Must be an array.' }];
  const errors: FieldError[] = [];
  if (components.length > 5) errors.push(tooLong(['components'], 5));
  const customIds = new Set<string>();
  components.forEach((row: unknown, ri) => {
    const children = isObject(row) ? row['components'] : undefined;
    if (!Array.isArray(children)) return;
    if (children.length > 5) errors.push(tooLong(['components', ri, 'components'], 5));
    // A select menu fills its row alone and offers 1 to 25 options (discord-notes: components).
    const selects = children.filter((child: unknown) => isObject(child) && child['type'] === 3);
    if (selects.length > 0 && children.length > 1) {
      errors.push({ path: ['components', ri, 'components'], code: 'COMPONENT_LAYOUT_WIDTH_EXCEEDED', message: 'The specified component exceeds the maximum width' });
    }
    for (const select of selects as Record<string, unknown>[]) {
      const options = select['options'];
      if (!Array.isArray(options) || options.length < 1 || options.length > 25) errors.push(tooLong(['components', ri, 'components', 0, 'options'], 25));
    }
    children.forEach((child: unknown, ci) => {
      const customId = isObject(child) ? child['custom_id'] : undefined;
      if (customId === undefined) return;
      const path = ['components', ri, 'components', ci, 'custom_id'];
      const bad = lengthError(path, customId, 1, 100);
      if (bad) errors.push(bad);
      else if (customIds.has(customId as string)) {
        errors.push({ path, code: 'COMPONENT_CUSTOM_ID_DUPLICATED', message: 'Component custom id cannot be duplicated' });
      }
      customIds.add(String(customId));
    });
  });
  return errors;
}

/** Content, embed and component limits for message create/edit bodies (discord-notes §2). */
export function messageBodyErrors(body: Json): FieldError[] {
  const errors: FieldError[] = [];
  const content = body['content'];
  if (typeof content === 'string' && content.length > 2000) errors.push(tooLong(['content'], 2000));
  errors.push(...embedErrors(body['embeds']), ...componentErrors(body['components']));
  return errors;
}
