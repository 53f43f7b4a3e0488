import { describe, expect, it } from 'vitest';
import { encodeMultipart } from './multipart.js';

/** Reads the body back with Node's own multipart parser (the one the fake Discord uses). */
async function decode(body: Buffer, contentType: string): Promise<FormData> {
  return new Request('http://x.invalid/', { method: 'POST', headers: { 'content-type': contentType }, body }).formData();
}

describe('encodeMultipart', () => {
  it('writes the payload and every file so that a standard parser reads them back byte for byte', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]);
    const form = new FormData();
    form.append('files[0]', new Blob([png], { type: 'image/png' }), 'out 1.png');
    form.append('files[1]', new Blob([Buffer.from('no type')]), 'notes');
    form.append('payload_json', '{"content":"a\\nb","attachments":[{"id":0},{"id":1}]}');
    const { body, contentType } = await encodeMultipart(form);
    const back = await decode(body, contentType);
    const first = back.get('files[0]') as File;
    expect(first.name).toBe('out 1.png');
    expect(first.type).toBe('image/png');
    expect(Buffer.from(await first.arrayBuffer()).equals(png)).toBe(true);
    expect((back.get('files[1]') as File).type).toBe('application/octet-stream');
    expect(back.get('payload_json')).toBe('{"content":"a\\nb","attachments":[{"id":0},{"id":1}]}');
  });

  it('escapes quotes and line breaks in names, and sends text line breaks as CRLF, as the HTML standard says', async () => {
    const form = new FormData();
    form.append('files[0]', new Blob([Buffer.from('x')]), 'a"b\nc.png');
    form.append('note', 'one\ntwo\rthree');
    const { body, contentType } = await encodeMultipart(form);
    const text = body.toString('latin1');
    expect(text).toContain('filename="a%22b%0Ac.png"');
    expect(text).toContain('one\r\ntwo\r\nthree');
    expect(contentType).toMatch(/^multipart\/form-data; boundary=comfycord-[0-9a-f]{32}$/);
    expect((await decode(body, contentType)).get('note')).toBe('one\r\ntwo\r\nthree');
  });

  it('uses a new boundary for every body', async () => {
    const form = new FormData();
    form.append('payload_json', '{}');
    const [a, b] = await Promise.all([encodeMultipart(form), encodeMultipart(form)]);
    expect(a.contentType).not.toBe(b.contentType);
  });
});
