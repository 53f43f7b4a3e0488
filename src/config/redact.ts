// What may reach a log line. Errors from discord.js carry the request URL (an interaction webhook's URL holds
// its live token) and the request body (whole files); undici errors nest the real reason in `cause`; ComfyUI
// clients hold API keys. Every logged value goes through `sanitizeForLog`, and every finished line through
// `scrubSecrets`, so no call site has to remember any of this.

/** Longest string kept in one field; the rest is cut with a note of the full length. */
export const MAX_FIELD_CHARS = 1024;
const MAX_DEPTH = 6;
const MAX_ITEMS = 20;
const MAX_KEYS = 40;
const REDACTED = '[redacted]';

/** Keys whose value is a credential wherever it appears (compared lower-case, `-`/`_` ignored). */
const SECRET_KEYS = new Set([
  'authorization',
  'proxyauthorization',
  'xapikey',
  'apikey',
  'token',
  'accesstoken',
  'refreshtoken',
  'interactiontoken',
  'webhooktoken',
  'secret',
  'clientsecret',
  'password',
  'cookie',
  'setcookie',
]);

/** Keys holding what was sent to a server: summarised (files by name, type and size), never logged. */
const REQUEST_BODY_KEYS = new Set(['requestbody', 'rawbody']);

const TEXT_RULES: readonly [RegExp, string][] = [
  // Webhook and interaction URLs: the segment after the id is the token.
  [/(\/webhooks\/\d+\/)[^/?#\s"'\\]+/g, `$1${REDACTED}`],
  [/(\/interactions\/\d+\/)[^/?#\s"'\\]+/g, `$1${REDACTED}`],
  // Credentials in query strings (ComfyUI's WebSocket takes its key as ?token=).
  [/([?&](?:token|access_token|api_key|apikey|key|password|secret)=)[^&#\s"'\\]+/gi, `$1${REDACTED}`],
  // Authorization header values written out as text: long and not a plain word ("Bot shutting down" stays).
  [/\b(Bearer|Bot|Basic)\s+(?=[A-Za-z-]*[0-9._~+/=])[A-Za-z0-9._~+/=-]{16,}/g, `$1 ${REDACTED}`],
  [/((?:x-api-key|authorization)["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, `$1${REDACTED}`],
  // A Discord bot token (three base64url parts) however it got into the text.
  [/\b[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}\b/g, REDACTED],
];

/** Removes credentials from free text: the known secrets verbatim, then tokens recognised by their shape. */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  for (const [pattern, replacement] of TEXT_RULES) out = out.replace(pattern, replacement);
  return out;
}

export function capText(text: string, max = MAX_FIELD_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length} chars]`;
}

function normalKey(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, '');
}

function binarySize(value: unknown): number | null {
  if (value instanceof ArrayBuffer) return value.byteLength;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  return null;
}

function isBlob(value: unknown): value is Blob {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}

/** A request body as its shape: files by name, type and size; anything else by its length. */
function summariseBody(body: unknown, secrets: readonly string[]): unknown {
  if (body === null || body === undefined) return body;
  if (typeof body === 'string') return `[request body omitted, ${body.length} chars]`;
  const size = binarySize(body);
  if (size !== null) return `[request body omitted, ${size} bytes]`;
  if (typeof body !== 'object') return '[request body omitted]';
  const { files, json } = body as { files?: unknown; json?: unknown };
  const summary: Record<string, unknown> = {};
  if (Array.isArray(files)) {
    summary.files = files.slice(0, MAX_ITEMS).map((file: unknown) => {
      const f = (file ?? {}) as { name?: unknown; contentType?: unknown; data?: unknown };
      const bytes = binarySize(f.data) ?? (typeof f.data === 'string' ? Buffer.byteLength(f.data) : isBlob(f.data) ? f.data.size : null);
      return { name: typeof f.name === 'string' ? capText(scrubSecrets(f.name, secrets), 200) : null, type: typeof f.contentType === 'string' ? f.contentType : null, bytes };
    });
  }
  if (json !== undefined) summary.json = `[omitted, ${safeLength(json)} chars]`;
  return Object.keys(summary).length > 0 ? summary : '[request body omitted]';
}

function safeLength(value: unknown): number | string {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return 'unknown';
  }
}

/**
 * A copy of `value` that is safe to log: credentials (by key name, by shape, or verbatim from `secrets`)
 * replaced, request bodies and bytes reduced to their size and type, errors (with `cause` chains and
 * aggregated errors) turned into plain objects, every string capped at MAX_FIELD_CHARS, and the depth and
 * width bounded.
 */
export function sanitizeForLog(value: unknown, secrets: readonly string[] = []): unknown {
  const seen = new WeakSet<object>();

  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return capText(scrubSecrets(v, secrets));
    if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean') return v;
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'symbol') return v.toString();
    if (typeof v === 'function') return undefined;
    const size = binarySize(v);
    if (size !== null) return `[${size} bytes]`;
    if (isBlob(v)) return `[${v.size} bytes${v.type ? `, ${v.type}` : ''}]`;
    if (v instanceof URL) return walk(v.href, depth);
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
    const object = v as object;
    if (seen.has(object)) return '[circular]';
    if (depth >= MAX_DEPTH) return '[…]';
    seen.add(object);
    try {
      if (Array.isArray(object)) {
        const items = object.slice(0, MAX_ITEMS).map((item) => walk(item, depth + 1));
        if (object.length > MAX_ITEMS) items.push(`[${object.length - MAX_ITEMS} more]`);
        return items;
      }
      if (object instanceof Map) return walk(Object.fromEntries([...object.entries()].slice(0, MAX_KEYS)), depth);
      if (object instanceof Set) return walk([...object].slice(0, MAX_ITEMS), depth);
      if (object instanceof Headers) return walk(Object.fromEntries(object.entries()), depth);
      const out: Record<string, unknown> = {};
      if (object instanceof Error) {
        out.type = object.constructor?.name ?? object.name;
        out.message = walk(object.message, depth + 1);
        if (object.stack) out.stack = walk(object.stack, depth + 1);
      }
      const keys = Object.keys(object);
      for (const key of keys.slice(0, MAX_KEYS)) {
        if (key in out && object instanceof Error) continue;
        out[key] = field(key, (object as Record<string, unknown>)[key], depth);
      }
      if (keys.length > MAX_KEYS) out['…'] = `${keys.length - MAX_KEYS} more keys`;
      if (object instanceof Error) {
        // `cause` and AggregateError's `errors` are own but not enumerable: the real reason of undici's
        // "fetch failed" lives there.
        if (object.cause !== undefined && !keys.includes('cause')) out.cause = walk(object.cause, depth + 1);
        if (object instanceof AggregateError && !keys.includes('errors')) out.errors = walk(object.errors, depth + 1);
      }
      return out;
    } finally {
      seen.delete(object);
    }
  };

  const field = (key: string, v: unknown, depth: number): unknown => {
    const normal = normalKey(key);
    if (SECRET_KEYS.has(normal)) return v === null || v === undefined ? v : REDACTED;
    if (REQUEST_BODY_KEYS.has(normal)) return summariseBody(v, secrets);
    return walk(v, depth + 1);
  };

  return walk(value, 0);
}
