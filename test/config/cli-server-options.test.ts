import { describe, expect, it } from 'vitest';
import { ArgsError } from '../../src/cli/args.js';
import { configuredServer, serverFrom } from '../../src/cli/server-options.js';

const flags = (entries: Record<string, string> = {}): Map<string, string> => new Map(Object.entries(entries));

describe('serverFrom (run, workflow)', () => {
  it('takes --server, then COMFY_URL, then the local default', () => {
    const env = { COMFY_URL: 'http://gpu-box:8188' };
    expect(serverFrom(flags({ server: 'https://comfy.example' }), env)).toEqual({ url: 'https://comfy.example' });
    expect(serverFrom(flags(), env)).toEqual({ url: 'http://gpu-box:8188' });
    expect(serverFrom(flags(), {})).toEqual({ url: 'http://127.0.0.1:8188' });
    expect(serverFrom(flags(), { COMFY_URL: '  ' })).toEqual({ url: 'http://127.0.0.1:8188' });
  });

  it('takes --api-key, then COMFY_API_KEY, whichever way the server was found', () => {
    expect(serverFrom(flags({ 'api-key': 'flag' }), { COMFY_API_KEY: 'env' })).toEqual({ url: 'http://127.0.0.1:8188', apiKey: 'flag' });
    expect(serverFrom(flags({ server: 'http://a:1' }), { COMFY_API_KEY: 'env' })).toEqual({ url: 'http://a:1', apiKey: 'env' });
    expect(serverFrom(flags(), { COMFY_URL: 'http://a:1', COMFY_API_KEY: '' })).toEqual({ url: 'http://a:1' });
  });

  it('names the source of a URL that is not http(s)', () => {
    expect(() => serverFrom(flags({ server: 'localhost:8188' }), {})).toThrow(new ArgsError('--server: must be an http(s) URL (got "localhost:8188")'));
    expect(() => serverFrom(flags(), { COMFY_URL: 'gpu-box' })).toThrow(new ArgsError('COMFY_URL: must be an http(s) URL (got "gpu-box")'));
  });

  it('refuses a COMFY_URL list (the bot may use several servers; one CLI run uses one), unless --server picks', () => {
    const env = { COMFY_URL: 'http://a:1,http://b:2' };
    expect(() => serverFrom(flags(), env)).toThrow(new ArgsError('COMFY_URL lists several servers ("http://a:1,http://b:2"); pick one with --server URL'));
    expect(serverFrom(flags({ server: 'http://b:2' }), env)).toEqual({ url: 'http://b:2' });
  });
});

describe('v2: entries of COMFY_URL', () => {
  it('carry the API kind and the ComfyUI behind the endpoint', () => {
    expect(serverFrom(flags(), { COMFY_URL: 'v2:http://a:8189|http://a:8188' })).toEqual({ url: 'http://a:8189', api: 'v2', classicUrl: 'http://a:8188' });
    expect(serverFrom(flags(), { COMFY_URL: 'v2:https://cloud.comfy.org', COMFY_API_KEY: 'k' })).toEqual({ url: 'https://cloud.comfy.org', apiKey: 'k', api: 'v2' });
    expect(() => serverFrom(flags(), { COMFY_URL: 'v2:http://a:8189|gpu' })).toThrow(new ArgsError('COMFY_URL: must be an http(s) URL (got "gpu")'));
  });
});

describe('configuredServer (check)', () => {
  it('is undefined without --server and COMFY_URL, so check stays offline', () => {
    expect(configuredServer(flags(), { COMFY_API_KEY: 'k' })).toBeUndefined();
    expect(configuredServer(flags(), { COMFY_URL: 'http://a:1', COMFY_API_KEY: 'k' })).toEqual({ url: 'http://a:1', apiKey: 'k' });
  });
});
