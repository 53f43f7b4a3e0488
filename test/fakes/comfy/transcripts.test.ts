import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTranscript, normalise, promptRuns, shapeOf, transcriptNames } from './transcripts.js';

describe('transcript helpers', () => {
  it('loads every recorded scenario, with HTTP exchanges or socket frames', () => {
    const names = transcriptNames();
    expect(names).toEqual(expect.arrayContaining(['00-http-basics', '12-history-ops', '20-ksampler-legacy-client', '21-ksampler-feature-flags-client']));
    for (const name of names) {
      const transcript = loadTranscript(name);
      expect(transcript.http.length + transcript.frames.size, name).toBeGreaterThan(0);
    }
  });

  it('finds a scenario by its number, and names the recorded ones when none matches', () => {
    expect(loadTranscript('05').http).toEqual(loadTranscript('05-validation-errors').http);
    expect(() => loadTranscript('99')).toThrow(/no transcript "99" .*\(recorded: 00-http-basics, /);
  });

  it('splits a socket into prompt runs ending with executing{node:null}', () => {
    const runs = promptRuns(loadTranscript('07-cached-rerun').frames.get('owner')!);
    expect(runs).toHaveLength(5);
    for (const run of runs) expect(run.at(-1)).toBe('executing');
  });

  it('normalises ids and timestamps and compares shapes', () => {
    const value = { prompt_id: '6a743f71-4687-444d-95bf-5bd63206e3a0', timestamp: 1795909420134, nested: { traceback: ['x'] } };
    expect(normalise(value)).toEqual({ prompt_id: '<uuid>', timestamp: 'number', nested: { traceback: 'list' } });
    expect(shapeOf({ b: 1, a: { c: 2 } })).toEqual(['a.c', 'b']);
  });

  it('names the file and line of a malformed transcript', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'transcript-'));
    try {
      const file = path.join(dir, 'broken.jsonl');
      writeFileSync(file, '{"t_ms":0,"dir":"meta"}\nnot json\n');
      expect(() => loadTranscript(file)).toThrow(/broken\.jsonl:2: not JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
