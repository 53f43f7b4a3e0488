// The id of one dispatch of a job: a UUID derived from the job id and the attempt number. Classic backends use it
// as the prompt id; v2 backends send it as the Idempotency-Key. It is recorded in the job store before the request
// leaves, so after a crash the same attempt is looked up (or adopted) under the same id instead of resubmitted.
import { createHash } from 'node:crypto';

export function dispatchId(jobId: string, attempt: number): string {
  const h = createHash('sha256').update(`comfycord:${jobId}:${attempt}`).digest();
  // Version 8 (custom) with the RFC 9562 variant bits, so servers that insist on a canonical UUID accept it.
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
