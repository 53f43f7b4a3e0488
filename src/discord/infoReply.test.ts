import { describe, expect, it } from 'vitest';
import { renderInfo, type InfoView, type ModeView } from './infoReply.js';

const view = (mode: ModeView, fast = { today: 0, month: 0 }): InfoView => ({
  gpuTodayMs: 90_000,
  gpuMonthMs: 90_000,
  fastTodayMs: fast.today,
  fastMonthMs: fast.month,
  mode,
  dailyLimitMs: 60_000,
  monthlyLimitMs: null,
  waiting: 0,
  running: 0,
  averageWaitSeconds: null,
});

const text = (v: InfoView) => renderInfo(v).embeds[0]!.description!;

describe('/info', () => {
  it('counts only fast GPU time against the fast quota', () => {
    const t = text(view({ preferred: 'relax', relaxAllowed: true, next: 'relax' }, { today: 15_000, month: 15_000 }));
    expect(t).toContain('**GPU time** 1m 30s today · 1m 30s this month (UTC)');
    expect(t).toContain('**Fast time** 45s of 1m 00s left today · no monthly limit');
  });

  it('says the mode a job would run in now, why, and whether relax is allowed here', () => {
    expect(text(view({ preferred: 'fast', relaxAllowed: false, next: 'fast' }))).toContain('**Mode** fast · relax is not allowed here');
    expect(text(view({ preferred: 'relax', relaxAllowed: false, next: 'fast' }))).toContain('**Mode** fast: you chose relax, but relax is not allowed here');
    expect(text(view({ preferred: 'relax', relaxAllowed: true, next: 'relax' }))).toContain('**Mode** relax (your choice: `/settings mode fast` to switch) · relax is allowed here');
    expect(text(view({ preferred: 'fast', relaxAllowed: true, next: 'relax' }))).toContain('**Mode** relax: your fast time is used up · relax is allowed here');
    expect(text(view({ preferred: 'fast', relaxAllowed: false, next: null }))).toContain(
      '**Mode** fast, and your fast time is used up: relax is not allowed here, so new jobs are refused until it resets',
    );
  });
});
