import { ERROR_MESSAGES, type DiscordErrorCode } from './errors.js';

export interface FaultSpec {
  method?: string;
  /** A RegExp tested against the decoded path after /api/v10, or a string the path must contain. */
  route: RegExp | string;
  status: number;
  code?: DiscordErrorCode;
  /** How many matching requests fail; default 1, `Infinity` for always. */
  times?: number;
  /** How many matching requests go through before the first failure (e.g. the third message fails); default 0. */
  skip?: number;
  /** Seconds, for 429s; default 0.25. */
  retryAfter?: number;
  /** For 429s: 'user' (default), 'shared', or 'global' (adds X-RateLimit-Global and global:true). */
  scope?: 'user' | 'shared' | 'global';
}

export interface InjectedResponse {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

const DEFAULT_CODES: Partial<Record<number, DiscordErrorCode>> = { 401: 50027, 403: 50013, 404: 10008, 413: 40005 };

export function rateLimitedBody(retryAfter: number, global: boolean): Record<string, unknown> {
  return { message: 'You are being rate limited.', retry_after: retryAfter, global };
}

/** Scripted failures: each spec answers the next `times` matching requests instead of the real handler. */
export class FaultInjector {
  readonly #pending: Array<Required<Pick<FaultSpec, 'route' | 'status' | 'times'>> & FaultSpec> = [];

  failNext(spec: FaultSpec): void {
    const times = spec.times ?? 1;
    if (!(times >= 1)) throw new RangeError(`failNext: times must be >= 1, got ${times}`);
    if (spec.status < 400 || spec.status > 599) throw new RangeError(`failNext: status must be 4xx or 5xx, got ${spec.status}`);
    if (spec.skip !== undefined && !(Number.isInteger(spec.skip) && spec.skip >= 0)) throw new RangeError(`failNext: skip must be an integer >= 0, got ${spec.skip}`);
    this.#pending.push({ ...spec, times });
  }

  clear(): void {
    this.#pending.length = 0;
  }

  /** Consumes one use of the first matching fault, if any. */
  match(method: string, path: string): InjectedResponse | undefined {
    const index = this.#pending.findIndex(
      (fault) =>
        (fault.method === undefined || fault.method.toUpperCase() === method) &&
        (typeof fault.route === 'string' ? path.includes(fault.route) : fault.route.test(path)),
    );
    const fault = this.#pending[index];
    if (!fault) return undefined;
    if (fault.skip !== undefined && fault.skip > 0) {
      fault.skip -= 1;
      return undefined;
    }
    fault.times -= 1;
    if (fault.times <= 0) this.#pending.splice(index, 1);
    return responseFor(fault);
  }
}

function responseFor(fault: FaultSpec): InjectedResponse {
  if (fault.status === 429) {
    const retryAfter = fault.retryAfter ?? 0.25;
    const scope = fault.scope ?? 'user';
    const global = scope === 'global';
    return {
      status: 429,
      headers: {
        'retry-after': String(retryAfter),
        'x-ratelimit-scope': scope,
        ...(global ? { 'x-ratelimit-global': 'true' } : {}),
      },
      body: rateLimitedBody(retryAfter, global),
    };
  }
  const code = fault.code ?? DEFAULT_CODES[fault.status];
  if (code === undefined) return { status: fault.status, headers: {}, body: { message: `${fault.status}: Injected failure`, code: 0 } };
  return { status: fault.status, headers: {}, body: { message: ERROR_MESSAGES[code], code } };
}
