// The audit trail: one structured log line per job event — who, what, where, and how it ended — so moderators
// can search the logs (`audit: true`) without reading the database.
import type { Logger } from '../config/logger.js';

export type AuditOutcome =
  | 'queued'
  | 'refused-access'
  | 'refused-limit'
  | 'blocked'
  | 'invalid'
  | 'succeeded'
  | 'failed'
  | 'cancelled';

export interface AuditEvent {
  /** Null for submissions refused before a job existed. */
  jobId: string | null;
  userId: string;
  guildId: string | null;
  channelId: string | null;
  command: string;
  params: Record<string, unknown>;
  outcome: AuditOutcome;
  /** Why it was refused, blocked or failed (limit message, matched word, error). */
  detail?: string;
}

const MAX_VALUE_CHARS = 120;
const MAX_SUMMARY_CHARS = 600;
const MAX_DETAIL_CHARS = 300;

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(clip(value, MAX_VALUE_CHARS));
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null || value === undefined) return 'none';
  // Attachments and other objects: their kind only, never their content or URLs.
  return `[${Array.isArray(value) ? 'list' : 'object'}]`;
}

/** `prompt="a cat" steps=20 …`, each value and the whole line bounded so one job cannot flood the log. */
export function summarizeParams(params: Record<string, unknown>): string {
  return clip(
    Object.entries(params)
      .map(([name, value]) => `${name}=${show(value)}`)
      .join(' '),
    MAX_SUMMARY_CHARS,
  );
}

export function auditJob(logger: Logger, event: AuditEvent): void {
  logger.info(
    {
      audit: true,
      jobId: event.jobId,
      userId: event.userId,
      guildId: event.guildId,
      channelId: event.channelId,
      command: event.command,
      params: summarizeParams(event.params),
      outcome: event.outcome,
      ...(event.detail === undefined ? {} : { detail: clip(event.detail, MAX_DETAIL_CHARS) }),
    },
    `audit: /${event.command} ${event.outcome}`,
  );
}
