// Discord rejects a whole message (400) when one embed limit is exceeded, so every embed passes through here.
import type { APIEmbed, APIEmbedField } from 'discord.js';

export const EMBED_LIMITS = {
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  total: 6000,
} as const;

/** Cuts text to `max` UTF-16 units with an ellipsis, never splitting a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return '…'.slice(0, max);
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

function embedLength(embed: APIEmbed): number {
  let total = (embed.title?.length ?? 0) + (embed.description?.length ?? 0) + (embed.footer?.text.length ?? 0);
  for (const field of embed.fields ?? []) total += field.name.length + field.value.length;
  return total;
}

/** Empty names or values are refused by Discord too. */
function fitField(field: APIEmbedField): APIEmbedField {
  return {
    name: truncate(field.name || '\u200b', EMBED_LIMITS.fieldName),
    value: truncate(field.value || '\u200b', EMBED_LIMITS.fieldValue),
    ...(field.inline === undefined ? {} : { inline: field.inline }),
  };
}

/**
 * Returns a copy of `embed` within every limit. When the total is too large the description shrinks first (down to
 * a floor) and then trailing fields go, replaced by one field saying how many were left out.
 */
export function fitEmbed(embed: APIEmbed): APIEmbed {
  const fitted: APIEmbed = { ...embed };
  if (fitted.title !== undefined) fitted.title = truncate(fitted.title, EMBED_LIMITS.title);
  if (fitted.description !== undefined) fitted.description = truncate(fitted.description, EMBED_LIMITS.description);
  if (fitted.footer) fitted.footer = { ...fitted.footer, text: truncate(fitted.footer.text, EMBED_LIMITS.footer) };

  const source = (embed.fields ?? []).map(fitField);
  const fieldsKeeping = (keep: number): APIEmbedField[] => {
    if (keep >= source.length && source.length <= EMBED_LIMITS.fields) return source;
    const kept = source.slice(0, Math.min(keep, EMBED_LIMITS.fields - 1));
    return [...kept, { name: '…', value: `${source.length - kept.length} more not shown` }];
  };
  let keep = source.length;
  if (source.length > 0) fitted.fields = fieldsKeeping(keep);

  const excess = () => embedLength(fitted) - EMBED_LIMITS.total;
  const descriptionFloor = 300;
  if (excess() > 0 && fitted.description && fitted.description.length > descriptionFloor) {
    fitted.description = truncate(fitted.description, Math.max(descriptionFloor, fitted.description.length - excess()));
  }
  while (excess() > 0 && keep > 0) {
    keep -= 1;
    fitted.fields = fieldsKeeping(keep);
  }
  if (excess() > 0 && fitted.description) {
    fitted.description = truncate(fitted.description, Math.max(1, fitted.description.length - excess()));
  }
  if (excess() > 0 && fitted.title) fitted.title = truncate(fitted.title, Math.max(1, fitted.title.length - excess()));
  return fitted;
}

