// Per-guild settings and per-user defaults as the store keeps them: JSON columns checked by zod on the way in
// and out, so a bad value is reported with the setting it belongs to instead of surfacing later.
import { z } from 'zod';
import { userLimitOverrideSchema } from '../config/schema.js';
import { StoreError } from './store-errors.js';

const snowflake = z.string().regex(/^\d+$/, 'must be a Discord id (digits)');
const idList = z.array(snowflake);

const pattern = z.string().superRefine((source, ctx) => {
  try {
    new RegExp(source, 'iu');
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(error as Error).message}` });
  }
});

export const guildSettingsSchema = z
  .object({
    /** Per command: where it may be used and by whom (absent = anywhere, anyone). */
    commands: z
      .record(z.string().min(1), z.object({ channels: idList.optional(), roles: idList.optional() }).strict())
      .default({}),
    /**
     * Per role id: limits that override the configured ones for its members (only the fields given). Per-user
     * limits only: the server's own caps are the bot operator's to set.
     */
    roleLimits: z.record(snowflake, userLimitOverrideSchema).default({}),
    moderatorRoles: idList.default([]),
    /** Post results as spoilers. */
    spoilerResults: z.boolean().default(false),
    /** Attach a batch's original files to its card under the grid (else they come with the Files button). */
    gridOriginals: z.boolean().default(false),
    /** Whole words refused in prompts (case-insensitive). */
    blockedWords: z.array(z.string().trim().min(1)).default([]),
    /** Regular expressions refused in prompts (case-insensitive). */
    blockedPatterns: z.array(pattern).default([]),
    /** What the bot answers when a prompt is refused (absent = a standard line). */
    blockedReply: z.string().min(1).max(2000).nullable().default(null),
    /** Set by the server's `/comfy pause|drain|resume`: its queued jobs wait, or its new jobs are refused. */
    queue: z.enum(['open', 'paused', 'draining']).default('open'),
    /** Jobs may run in relax mode here (by choice, or once a member's fast GPU time is used up); null: the config's `relax.allowed`. */
    allowRelax: z.boolean().nullable().default(null),
  })
  .strict();

export type GuildSettings = z.infer<typeof guildSettingsSchema>;
export type GuildSettingsPatch = Partial<z.input<typeof guildSettingsSchema>>;

/** Saved option values of one user for one command. */
export const userDefaultsSchema = z.record(z.string().min(1), z.union([z.string(), z.number(), z.boolean()]));
export type UserDefaults = z.infer<typeof userDefaultsSchema>;

/** Parse or throw a StoreError: "<what>: blockedPatterns.0: not a valid regular expression: …; spoilerResults: …" */
export function parseSettings<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw new StoreError(`${what}: ${issues.join('; ')}`);
}
