import { describe, expect, it } from 'vitest';
import { cpuByRoom, roomOfFrame, type CpuProfile } from './cpuRooms.js';

const SRC = 'file:///repo/src';
const NM = 'file:///repo/node_modules';

describe('the room of a frame', () => {
  it('names project rooms by their directory under src/', () => {
    expect(roomOfFrame(`${SRC}/scheduler/scheduler.ts`)).toBe('scheduler (src/scheduler)');
    expect(roomOfFrame(`${SRC}/comfy/socket.ts`)).toBe('ComfyUI client (src/comfy)');
    expect(roomOfFrame(`${SRC}/discord/wiring/cardSession.ts`)).toBe('cards + handlers (src/discord)');
    expect(roomOfFrame(`${SRC}/main.ts`)).toBe('wiring (src/main.ts)');
  });

  it('puts libraries in the room they serve, scoped packages included', () => {
    expect(roomOfFrame(`${NM}/@discordjs/rest/dist/index.js`)).toBe('discord.js (REST + gateway)');
    expect(roomOfFrame(`${NM}/discord.js/src/client/Client.js`)).toBe('discord.js (REST + gateway)');
    expect(roomOfFrame(`${NM}/undici/lib/dispatcher/client-h1.js`)).toBe('HTTP client (undici: Discord REST + ComfyUI)');
    expect(roomOfFrame(`${NM}/@discordjs/rest/node_modules/undici/lib/dispatcher/client-h1.js`)).toBe('HTTP client (undici: Discord REST + ComfyUI)');
    expect(roomOfFrame(`${NM}/left-pad/index.js`)).toBe('other package (left-pad)');
  });

  it("charges Node's bundled fetch to discord.js REST and leaves other Node internals to their caller", () => {
    expect(roomOfFrame('node:internal/deps/undici/undici')).toBe('discord.js (REST + gateway)');
    expect(roomOfFrame('node:events')).toBeNull();
    expect(roomOfFrame('')).toBeNull();
  });
});

describe('CPU by room', () => {
  // root → scheduler → node:events (leaf) ; root → net (leaf, nothing above) ; root → GC ; root → idle
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '' }, children: [2, 4, 5, 6, 7] },
      { id: 2, callFrame: { functionName: 'dispatch', url: `${SRC}/scheduler/scheduler.ts` }, children: [3] },
      { id: 3, callFrame: { functionName: 'emit', url: 'node:events' } },
      { id: 4, callFrame: { functionName: 'onStreamRead', url: 'node:internal/stream_base_commons' } },
      { id: 5, callFrame: { functionName: '(garbage collector)', url: '' } },
      { id: 6, callFrame: { functionName: '(idle)', url: '' } },
      { id: 7, callFrame: { functionName: 'request', url: `${NM}/undici/index.js` } },
    ],
    samples: [3, 3, 4, 5, 6, 7, 3],
    // each sample stands for the gap to the next one; the last one counts for nothing
    timeDeltas: [0, 1000, 2000, 1000, 3000, 5000, 1000],
  };

  it('charges each sample to the innermost room on its stack and leaves idle time out', () => {
    expect(cpuByRoom(profile)).toEqual([
      { room: 'scheduler (src/scheduler)', ms: 3 },
      { room: '(garbage collector)', ms: 3 },
      { room: 'Node runtime (net, streams, timers)', ms: 1 },
      { room: 'HTTP client (undici: Discord REST + ComfyUI)', ms: 1 },
    ]);
  });

  it('refuses a profile that samples a node it does not contain', () => {
    expect(() => cpuByRoom({ ...profile, samples: [99, 3] })).toThrow('the profile samples node 99, which it does not contain');
  });
});
