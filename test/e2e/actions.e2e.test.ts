// Follow-up actions declared in command files, run by the real bot against the fakes: a per-output action to
// another command with a remix modal and the link to its parent, a broken action skipped at load, an action
// refused by limits under the member who pressed it, and an action whose parent output is gone.
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { currentRevision, type MessageRevision, type StoredMessage } from '../fakes/discord/index.js';
import { buttonId, buttonIds, cardIn, describeHistory, embedOf, REPO_ROOT, titleOf, useE2E } from './harness.js';

/** The shipped commands plus /sketch, whose actions are what this file exercises. */
const commandsDir = mkdtempSync(join(tmpdir(), 'comfycord-actions-'));
cpSync(join(REPO_ROOT, 'commands'), commandsDir, { recursive: true });
writeFileSync(
  join(commandsDir, 'sketch.yml'),
  `name: sketch
description: A quick sketch
template: txt2img.json
options:
  - {name: prompt, type: string, required: true, max_length: 500, target: Positive Prompt.text}
  - {name: seed, type: integer, min: 0, max: 1000000, default: random, target: KSampler.seed}
outputs: [Save Image]
limits: {daily_quota: 1}
actions:
  - {name: again, label: Again, emoji: "🔁", style: primary, inherit: true, with: {seed: $random}}
  - {name: broken, command: nope}
  - name: vary
    label: "V{n}"
    command: reimagine
    per: output
    remix: true
    with: {image: $output, prompt: $parent.prompt, strength: 0.35}
  - {name: upscale, label: Upscale, command: upscale, per: output, with: {image: $output}}
`,
);
afterAll(() => rmSync(commandsDir, { recursive: true, force: true }));

const e2e = useE2E({ env: { COMFYCORD_COMMANDS_DIR: commandsDir } });

async function finalCard(token: string, state: string | RegExp = /Done|Failed|Cancelled|Not queued/): Promise<StoredMessage> {
  try {
    return await e2e().discord.waitFor((d) => cardIn(d, token, state), { timeoutMs: 15_000, description: `the card to reach ${state}` });
  } catch (error) {
    const card = e2e().discord.originalFor(token);
    throw new Error(`${(error as Error).message}\ncard so far:\n${card ? describeHistory(card) : '(none)'}\nbot log tail:\n${e2e().bot.lines.slice(-8).join('\n')}`);
  }
}

function field(revision: MessageRevision, name: string): string | undefined {
  return embedOf(revision)?.fields?.find((f) => f.name === name)?.value.replace(/`/g, '');
}

interface ModalComponent {
  components: { custom_id: string; value?: string }[];
}

async function modalOf(token: string): Promise<{ customId: string; fields: ModalComponent[] }> {
  const data = await e2e().discord.waitFor((d) => d.interactions.find((i) => i.token === token)?.response?.data, { description: 'a modal' });
  return { customId: data['custom_id'] as string, fields: data['components'] as ModalComponent[] };
}

let sketch: StoredMessage;
/** A batch card with its originals attached under the grid (the guild's originals setting). */
let withOriginals: StoredMessage;

describe('actions declared in a command file', () => {
  it('skips a broken action with a one-line reason and loads the command with its other actions', async () => {
    const line = await e2e().bot.waitForLine((l) => l.includes('action skipped'), 5_000, 'the skipped action');
    expect(line).toContain('sketch.yml: action \\"broken\\": runs /nope, which is not a loaded command');
    const { token } = await e2e().discord.slash('sketch', { prompt: 'a red fox' });
    sketch = await finalCard(token, 'Done');
    expect(buttonIds(currentRevision(sketch)).map((id) => id.split(':').slice(2).join(':'))).toEqual(['again', 'delete', 'vary:1', 'upscale:1']);
    const labels = currentRevision(sketch).components.flatMap((row) => (row as { components: { label: string }[] }).components.map((b) => b.label));
    expect(labels).toEqual(['Again', 'Delete', 'V1', 'Upscale 1']);
  });

  it('runs a per-output remix action on another command, prefilled from the parent, linked to it', async () => {
    const uploads = e2e().comfy.requests.filter((r) => r.path.includes('/upload/image')).length;
    const press = await e2e().discord.button(sketch.id, buttonId(currentRevision(sketch), 'vary'));
    const modal = await modalOf(press.token);
    expect(modal.fields.map((row) => row.components[0])).toEqual([expect.objectContaining({ custom_id: 'prompt', value: 'a red fox' })]);
    const { token } = await e2e().discord.modalSubmit(modal.customId, { prompt: 'a red fox in the snow' }, { messageId: sketch.id });
    const child = currentRevision(await finalCard(token, 'Done'));
    expect(titleOf(child)).toBe('/reimagine · Done');
    const { guildId, channelId } = sketch;
    expect(embedOf(child)?.description?.split('\n')[0]).toBe(`↪️ Variation of [/sketch (image 1)](https://discord.com/channels/${guildId}/${channelId}/${sketch.id})`);
    expect(embedOf(child)?.description).toContain('a red fox in the snow');
    expect(field(child, 'strength')).toBe('0.35');
    // The parent's output went to ComfyUI as the image input.
    expect(e2e().comfy.requests.filter((r) => r.path.includes('/upload/image')).length).toBe(uploads + 1);
    // The child has the actions of its own command file.
    expect(buttonIds(child).map((id) => id.split(':')[2])).toEqual(['reroll', 'edit', 'delete', 'upscale', 'vary-subtle', 'vary-strong', 'pan-left', 'pan-right', 'pan-up', 'pan-down']);
  });

  it('refuses an action under the limits of the member who pressed it', async () => {
    const member = e2e().discord.addMember({ id: '9100000000000000021', username: 'sketcher', roles: [] });
    const first = await e2e().discord.slash('sketch', { prompt: 'a blue heron' }, { userId: member.user.id });
    const card = await finalCard(first.token, 'Done');
    const again = await e2e().discord.button(card.id, buttonId(currentRevision(card), 'again'), { userId: member.user.id });
    const refused = currentRevision(await finalCard(again.token, 'Not queued'));
    expect(embedOf(refused)?.description).toBe('❌ Daily quota reached (1 job); it resets at 00:00 UTC');
  });

  it('shows a batch as one numbered grid with U, V, Upscale and Files buttons', async () => {
    const { token } = await e2e().discord.slash('imagine', { prompt: 'four lighthouses', batch: 4 });
    const grid = await finalCard(token, 'Done');
    const card = currentRevision(grid);
    expect(embedOf(card)?.description).toContain('✅ 4 images');
    expect(card.attachments).toHaveLength(1);
    expect(card.attachments[0]?.contentType).toBe('image/jpeg');
    expect(embedOf(card)?.image?.url).toBe(`attachment://${card.attachments[0]!.filename}`);
    const rows = card.components.map((row) => (row as { components: { custom_id: string; label: string }[] }).components.map((b) => b.label));
    expect(rows).toEqual([
      ['reroll', 'edit', 'files', 'delete'].map((name) => ({ reroll: 'Reroll', edit: 'Edit', files: 'Files', delete: 'Delete' })[name]),
      ['U1', 'U2', 'U3', 'U4'],
      ['Upscale 1', 'Upscale 2', 'Upscale 3', 'Upscale 4'],
      ['V1', 'V2', 'V3', 'V4'],
    ]);

    // U2: image 2 on a message of its own, whose per-output buttons act on image 2.
    const pick = await e2e().discord.button(grid.id, buttonIds(card).find((id) => id.endsWith(':pick:2'))!);
    const single = currentRevision(await finalCard(pick.token, 'Done'));
    expect(embedOf(single)?.description).toContain('✅ Image 2 of 4');
    expect(single.attachments.map((a) => a.contentType)).toEqual(['image/png']);
    expect(buttonIds(single).map((id) => id.split(':').slice(2).join(':'))).toEqual([
      'reroll', 'edit', 'delete', 'upscale:2', 'vary:2', 'vary-subtle:2', 'vary-strong:2', 'pan-left:2', 'pan-right:2', 'pan-up:2', 'pan-down:2', 'zoom15:2', 'zoom2:2',
    ]);
    const singleMessage = e2e().discord.originalFor(pick.token)!;

    // Pan ➡️ on image 2 (remix): the prompt in a modal first, edited; then /outpaint of that image to the right,
    // with the edited prompt, linked to the grid card.
    const pan = await e2e().discord.button(singleMessage.id, buttonIds(single).find((id) => id.endsWith(':pan-right:2'))!);
    const panModal = await modalOf(pan.token);
    expect(panModal.fields.map((row) => row.components[0])).toEqual([expect.objectContaining({ custom_id: 'prompt', value: 'four lighthouses' })]);
    const panSubmit = await e2e().discord.modalSubmit(panModal.customId, { prompt: 'four lighthouses and a harbour' }, { messageId: singleMessage.id });
    const panned = currentRevision(await finalCard(panSubmit.token, 'Done'));
    expect(titleOf(panned)).toBe('/outpaint · Done');
    expect(field(panned, 'direction')).toBe('right');
    expect(embedOf(panned)?.description).toContain('four lighthouses and a harbour');
    expect(embedOf(panned)?.description?.split('\n')[0]).toBe(`↪️ Variation of [/imagine (image 2)](https://discord.com/channels/${grid.guildId}/${grid.channelId}/${grid.id})`);

    // Zoom Out 2× on image 2 (remix, the prompt submitted as prefilled): padded by half its size on every side
    // (the parent's size picks the pads), same prompt.
    const zoom = await e2e().discord.button(singleMessage.id, buttonIds(single).find((id) => id.endsWith(':zoom2:2'))!);
    const zoomModal = await modalOf(zoom.token);
    expect(zoomModal.customId).toMatch(/:zoom2:2$/);
    expect(zoomModal.fields.map((row) => row.components[0])).toEqual([expect.objectContaining({ custom_id: 'prompt', value: 'four lighthouses' })]);
    const zoomSubmit = await e2e().discord.modalSubmit(zoomModal.customId, { prompt: 'four lighthouses' }, { messageId: singleMessage.id });
    const zoomed = currentRevision(await finalCard(zoomSubmit.token, 'Done'));
    expect(titleOf(zoomed)).toBe('/zoom2 · Done');
    expect(embedOf(zoomed)?.description).toContain('four lighthouses');
    expect(field(zoomed, 'size')).toBe('1:1');
    const padded = e2e().comfy.requests.filter((r) => r.path.endsWith('/prompt') && r.method === 'POST').at(-1)?.body as { prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }> };
    expect(Object.values(padded.prompt).find((node) => node.class_type === 'ImagePadForOutpaint')?.inputs).toMatchObject({ left: 256, right: 256, top: 256, bottom: 256 });

    // Vary (Subtle) on image 2 opens the remix modal first; the prompt is edited, the strength is the subtle one.
    const subtle = await e2e().discord.button(singleMessage.id, buttonIds(single).find((id) => id.endsWith(':vary-subtle:2'))!);
    const modal = await modalOf(subtle.token);
    expect(modal.fields.map((row) => row.components[0])).toEqual([expect.objectContaining({ custom_id: 'prompt', value: 'four lighthouses' })]);
    const remixed = await e2e().discord.modalSubmit(modal.customId, { prompt: 'four lighthouses at night' }, { messageId: singleMessage.id });
    const varied = currentRevision(await finalCard(remixed.token, 'Done'));
    expect(titleOf(varied)).toBe('/reimagine · Done');
    expect(field(varied, 'strength')).toBe('0.35');
    expect(embedOf(varied)?.description).toContain('four lighthouses at night');

    // V3: a variation of image 3, linked to the grid card.
    const vary = await e2e().discord.button(grid.id, buttonIds(card).find((id) => id.endsWith(':vary:3'))!);
    const child = currentRevision(await finalCard(vary.token, 'Done'));
    expect(titleOf(child)).toBe('/reimagine · Done');
    expect(embedOf(child)?.description?.split('\n')[0]).toBe(`↪️ Variation of [/imagine (image 3)](https://discord.com/channels/${grid.guildId}/${grid.channelId}/${grid.id})`);
    expect(embedOf(child)?.description).toContain('four lighthouses');

    // Files: the four originals, for the member who asked.
    const files = await e2e().discord.button(grid.id, buttonIds(card).find((id) => id.endsWith(':files'))!);
    const originals = await e2e().discord.waitFor((d) => {
      const message = d.originalFor(files.token);
      return message && currentRevision(message).attachments.length > 0 ? currentRevision(message) : undefined;
    }, { description: 'the original files' });
    expect(originals.attachments.map((a) => a.contentType)).toEqual(['image/png', 'image/png', 'image/png', 'image/png']);
    expect(originals.flags & 64).toBe(64);
  });

  it('attaches a batch\'s originals under its grid when the server says so (/comfy config originals)', async () => {
    const settingsAnswer = async (options: Record<string, boolean>): Promise<string> => {
      const { token } = await e2e().discord.slash('comfy config originals', options, { roles: ['Moderator'] });
      return e2e().discord.waitFor((d) => d.originalFor(token) && currentRevision(d.originalFor(token)!).content, { description: 'the settings answer' });
    };
    expect(await settingsAnswer({ on: true })).toBe('A batch\'s original files are now attached under its grid.');
    try {
      const { token } = await e2e().discord.slash('imagine', { prompt: 'two boats', batch: 2 });
      withOriginals = await finalCard(token, 'Done');
      const card = currentRevision(withOriginals);
      expect(card.attachments.map((a) => a.contentType)).toEqual(['image/jpeg', 'image/png', 'image/png']);
      expect(embedOf(card)?.image?.url).toBe(`attachment://${card.attachments[0]!.filename}`);
      expect(embedOf(card)?.description).toContain('✅ 2 images');
      expect(buttonIds(card).filter((id) => /:pick:\d$/.test(id))).toHaveLength(2);
    } finally {
      expect(await settingsAnswer({ on: false })).toBe('A batch\'s original files now come with its Files button only.');
    }
    const { token } = await e2e().discord.slash('imagine', { prompt: 'two more boats', batch: 2 });
    expect(currentRevision(await finalCard(token, 'Done')).attachments.map((a) => a.contentType)).toEqual(['image/jpeg']);
  });

  it('/show posts a finished job again with its buttons, by id or by link, for its owner only', async () => {
    const jobId = /job (\S+)/.exec(embedOf(currentRevision(sketch))?.footer?.text ?? '')?.[1] ?? '';
    const byId = await e2e().discord.slash('show', { job: jobId });
    const shown = currentRevision(await finalCard(byId.token, 'Done'));
    expect(embedOf(shown)?.description).toContain('a red fox');
    expect(shown.attachments).toHaveLength(1);
    expect(buttonIds(shown)).toEqual(buttonIds(currentRevision(sketch)));

    const link = `https://discord.com/channels/${sketch.guildId}/${sketch.channelId}/${sketch.id}`;
    const byLink = await e2e().discord.slash('show', { job: link });
    expect(embedOf(currentRevision(await finalCard(byLink.token, 'Done')))?.footer?.text).toBe(`job ${jobId}`);

    const stranger = e2e().discord.addMember({ id: '9100000000000000022', username: 'onlooker', roles: [] });
    for (const job of [jobId, 'no-such-job']) {
      const refused = await e2e().discord.slash('show', { job }, { userId: stranger.user.id });
      const answer = await e2e().discord.waitFor((d) => {
        const message = d.originalFor(refused.token);
        return message ? currentRevision(message) : undefined;
      }, { description: 'the refusal' });
      expect(answer.content).toBe('No job of yours by that id or link (moderators: any job of this server).');
    }
  });

  it('refuses an action under the access rules of the member who pressed it (/comfy config allow)', async () => {
    const { token } = await e2e().discord.slash('imagine', { prompt: 'a lone pine' });
    const card = await finalCard(token, 'Done');
    const moderator = e2e().discord.roleId('Moderator');
    const allow = await e2e().discord.slash('comfy config allow', { command: 'upscale', role: moderator }, { roles: ['Moderator'] });
    await e2e().discord.waitFor((d) => d.originalFor(allow.token), { description: 'the settings answer' });
    try {
      // The owner of the card, without the role: refused, nothing queued.
      const prompts = e2e().comfy.requests.filter((r) => r.path.endsWith('/prompt') && r.method === 'POST').length;
      const pressed = await e2e().discord.button(card.id, buttonId(currentRevision(card), 'upscale'));
      const refused = currentRevision(await finalCard(pressed.token, 'Not queued'));
      expect(titleOf(refused)).toBe('/upscale · Not queued');
      expect(embedOf(refused)?.description).toBe(`❌ To use /upscale you need the role <@&${moderator}>.`);
      expect(e2e().comfy.requests.filter((r) => r.path.endsWith('/prompt') && r.method === 'POST').length).toBe(prompts);
      // The same button pressed by a member with the role runs.
      const allowed = await e2e().discord.button(card.id, buttonId(currentRevision(card), 'upscale'), { roles: ['Moderator'] });
      expect(titleOf(currentRevision(await finalCard(allowed.token, 'Done')))).toBe('/upscale · Done');
    } finally {
      const open = await e2e().discord.slash('comfy config disallow', { command: 'upscale' }, { roles: ['Moderator'] });
      await e2e().discord.waitFor((d) => d.originalFor(open.token), { description: 'the settings answer' });
    }
  });

  it('tells the member when the parent output is gone from ComfyUI and from the card (a card of originals still serves)', async () => {
    const outputDir = join(e2e().comfy.dataDir, 'output');
    for (const name of readdirSync(outputDir)) rmSync(join(outputDir, name), { recursive: true, force: true });
    // A grid card with the originals under it still has a copy of each image: V2 runs from the card's original 2.
    const vary = await e2e().discord.button(withOriginals.id, buttonIds(currentRevision(withOriginals)).find((id) => id.endsWith(':vary:2'))!);
    const varied = currentRevision(await finalCard(vary.token, 'Done'));
    expect(titleOf(varied)).toBe('/reimagine · Done');
    expect(embedOf(varied)?.description).toContain('two boats');
    e2e().discord.faults.failNext({ method: 'GET', route: /^\/attachments\//, status: 404, times: 5 });
    const press = await e2e().discord.button(sketch.id, buttonId(currentRevision(sketch), 'upscale'));
    const refused = currentRevision(await finalCard(press.token, 'Not queued'));
    expect(titleOf(refused)).toBe('/upscale · Not queued');
    expect(embedOf(refused)?.description).toBe('❌ image 1 of that job is no longer available (ComfyUI no longer has it and the card has no usable copy)');
    e2e().discord.faults.clear();
  });
});

describe('/blend', () => {
  const picture = (width: number, height: number, background: string): Promise<Buffer> =>
    sharp({ create: { width, height, channels: 3, background } }).png().toBuffer();
  const lastPrompt = (): Record<string, { class_type: string; inputs: Record<string, unknown> }> =>
    (e2e().comfy.requests.filter((r) => r.path.endsWith('/prompt') && r.method === 'POST').at(-1)?.body as { prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }> }).prompt;
  const classes = (graph: ReturnType<typeof lastPrompt>): string[] => Object.values(graph).map((node) => node.class_type).sort();

  it('blends two attachments: the unused Blend nodes are bypassed, ComfyUI accepts the graph', async () => {
    const attachments = [
      { name: 'a.png', bytes: await picture(640, 480, '#aa3311'), contentType: 'image/png' },
      { name: 'b.png', bytes: await picture(300, 500, '#1133aa'), contentType: 'image/png' },
    ];
    const { token } = await e2e().discord.slash('blend', { prompt: 'a sunset over the sea' }, { attachments });
    const card = currentRevision(await finalCard(token, 'Done'));
    expect(titleOf(card)).toBe('/blend · Done');
    expect(embedOf(card)?.description).toContain('a sunset over the sea');
    const graph = lastPrompt();
    expect(classes(graph).filter((c) => c === 'LoadImage' || c === 'ImageBlend')).toEqual(['ImageBlend', 'LoadImage', 'LoadImage']);
    const loaded = Object.values(graph).filter((node) => node.class_type === 'LoadImage').map((node) => node.inputs['image']);
    expect(new Set(loaded).size).toBe(2);
    // The blend of the two feeds the encoder directly.
    const encode = Object.values(graph).find((node) => node.class_type === 'VAEEncode')!;
    expect(graph[(encode.inputs['pixels'] as [string, number])[0]]?.class_type).toBe('ImageBlend');
    expect(buttonIds(card).map((id) => id.split(':')[2])).toEqual(['reroll', 'edit', 'delete', 'upscale', 'vary-subtle', 'vary-strong', 'pan-left', 'pan-right', 'pan-up', 'pan-down', 'zoom15', 'zoom2']);

    // Reroll blends the same two images again (kept with the job), with a new seed.
    const message = e2e().discord.originalFor(token)!;
    const uploads = e2e().comfy.requests.filter((r) => r.path.includes('/upload/image')).length;
    const reroll = await e2e().discord.button(message.id, buttonId(card, 'reroll'));
    expect(titleOf(currentRevision(await finalCard(reroll.token, 'Done')))).toBe('/blend · Done');
    expect(e2e().comfy.requests.filter((r) => r.path.includes('/upload/image')).length).toBe(uploads + 2);
    expect(classes(lastPrompt()).filter((c) => c === 'LoadImage')).toHaveLength(2);

    // Zoom Out 1.5× on the blend: the blend's size picks the pads.
    const zoom = await e2e().discord.button(message.id, buttonIds(card).find((id) => id.endsWith(':zoom15:1'))!);
    const zoomModal = await modalOf(zoom.token);
    const zoomed = await e2e().discord.modalSubmit(zoomModal.customId, { prompt: 'a wider sunset' }, { messageId: message.id });
    const zoomCard = currentRevision(await finalCard(zoomed.token, 'Done'));
    expect(embedOf(zoomCard)?.description?.split('\n')[0]).toBe(`↪️ Variation of [/blend (image 1)](https://discord.com/channels/${message.guildId}/${message.channelId}/${message.id})`);
    expect(Object.values(lastPrompt()).find((node) => node.class_type === 'ImagePadForOutpaint')?.inputs).toMatchObject({ left: 128, right: 128, top: 128, bottom: 128 });
  });

  it('blends four attachments through three Blend nodes', async () => {
    const colours = ['#aa3311', '#1133aa', '#11aa33', '#dddd22'];
    const attachments = await Promise.all(colours.map(async (colour, i) => ({ name: `p${i + 1}.png`, bytes: await picture(256 + 64 * i, 256, colour), contentType: 'image/png' })));
    const uploads = e2e().comfy.requests.filter((r) => r.path.includes('/upload/image')).length;
    const { token } = await e2e().discord.slash('blend', { size: '16:9' }, { attachments });
    expect(titleOf(currentRevision(await finalCard(token, 'Done')))).toBe('/blend · Done');
    expect(e2e().comfy.requests.filter((r) => r.path.includes('/upload/image')).length).toBe(uploads + 4);
    const graph = lastPrompt();
    expect(classes(graph).filter((c) => c === 'LoadImage' || c === 'ImageBlend')).toEqual(['ImageBlend', 'ImageBlend', 'ImageBlend', 'LoadImage', 'LoadImage', 'LoadImage', 'LoadImage']);
    expect(Object.values(graph).find((node) => node.class_type === 'ImageScale')?.inputs).toMatchObject({ width: 912, height: 512 });
  });

  it('needs two images: Discord itself refuses one, since image1 and image2 are required options', async () => {
    type Registered = { name: string; options?: { name: string; type: number; required?: boolean }[] };
    const registered = (e2e().discord.commands().commands as Registered[]).find((command) => command.name === 'blend')!;
    const images = (registered.options ?? []).filter((option) => option.type === 11).map((option) => [option.name, option.required === true]);
    expect(images).toEqual([['image1', true], ['image2', true], ['image3', false], ['image4', false]]);
    const one = [{ name: 'a.png', bytes: await picture(64, 64, '#aa3311'), contentType: 'image/png' }];
    await expect(e2e().discord.slash('blend', {}, { attachments: one })).rejects.toThrow(/required option\(s\) missing: image2/);
  });

  it('refuses a non-image among the attachments before anything reaches ComfyUI', async () => {
    const uploads = e2e().comfy.requests.filter((r) => r.path.includes('/upload/image')).length;
    const attachments = [
      { name: 'a.png', bytes: await picture(64, 64, '#aa3311'), contentType: 'image/png' },
      { name: 'notes.txt', bytes: Buffer.from('not a picture'), contentType: 'text/plain' },
    ];
    const { token } = await e2e().discord.slash('blend', {}, { attachments });
    const refused = currentRevision(await finalCard(token, 'Not queued'));
    expect(embedOf(refused)?.description).toBe('❌ image2: that file is not an image');
    expect(e2e().comfy.requests.filter((r) => r.path.includes('/upload/image')).length).toBe(uploads);
  });
});

