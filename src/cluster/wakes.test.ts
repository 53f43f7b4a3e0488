import { describe, expect, it } from 'vitest';
import { cancelWake, HOLDS_WAKE, jobWake, parseWake } from './wakes.js';

describe('wake payloads', () => {
  it('round-trips a new job and a recorded cancel', () => {
    expect(parseWake(jobWake('j-1'))).toEqual({ kind: 'job', jobId: 'j-1' });
    expect(parseWake(cancelWake('j-1'))).toEqual({ kind: 'cancel', jobId: 'j-1' });
  });

  it('knows a change of holds', () => {
    expect(parseWake(HOLDS_WAKE)).toEqual({ kind: 'holds' });
    expect(parseWake('holds:x')).toBeNull();
  });

  it('ignores payloads it does not know (a newer process, another tool on the channel)', () => {
    for (const payload of ['', 'job:', 'job:a:b', 'cancel:', 'cancel:j:u:1', 'resize:j']) expect(parseWake(payload)).toBeNull();
  });
});
