import { describe, expect, it } from 'vitest';
import { cancelWake, HOLDS_WAKE, jobWake, parseWake } from './wakes.js';

describe('wake payloads', () => {
  it('round-trips a new job and a cancel request', () => {
    expect(parseWake(jobWake('j-1'))).toEqual({ kind: 'job', jobId: 'j-1' });
    expect(parseWake(cancelWake('j-1', '42', true))).toEqual({ kind: 'cancel', jobId: 'j-1', userId: '42', isModerator: true });
    expect(parseWake(cancelWake('j-1', '42', false))).toMatchObject({ isModerator: false });
  });

  it('knows a change of holds', () => {
    expect(parseWake(HOLDS_WAKE)).toEqual({ kind: 'holds' });
    expect(parseWake('holds:x')).toBeNull();
  });

  it('ignores payloads it does not know (a newer process, another tool on the channel)', () => {
    for (const payload of ['', 'job:', 'job:a:b', 'cancel:j:u', 'cancel:j:u:2', 'resize:j']) expect(parseWake(payload)).toBeNull();
  });
});
