import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A textured, moving camera clip for Chromium's fake camera (`--use-file-for-fake-video-capture`), as a
 * Y4M file: the default fake pattern is nearly free to encode, so CPU figures from it flatter the box
 * (issue 16). A fixed random texture of 8×8 blocks with fine grain is panned diagonally, and a bright bar
 * sweeps across: an encoder sees detail and motion in every frame, as from a classroom camera. Made here
 * (no ffmpeg on the machines) and kept in the temp folder between runs.
 */
export async function texturedClip(width = 1280, height = 720, fps = 30, seconds = 2): Promise<string> {
  const file = join(tmpdir(), `classbox-clip-${width}x${height}-${fps}-${seconds}s.y4m`);
  if (existsSync(file)) return file;
  let seed = 0x2545f491;
  const random = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x1_0000_0000;
  };
  const tw = width * 2;
  const th = height * 2;
  const texture = Buffer.alloc(tw * th);
  const blocks = new Uint8Array(Math.ceil(tw / 8) * Math.ceil(th / 8)).map(() => 40 + random() * 170);
  for (let y = 0; y < th; y++)
    for (let x = 0; x < tw; x++)
      texture[y * tw + x] = blocks[(y >> 3) * Math.ceil(tw / 8) + (x >> 3)]! + Math.floor(random() * 30);
  const tmp = `${file}.${process.pid}.tmp`;
  const out = await open(tmp, 'w');
  try {
    await out.write(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`);
    const frames = fps * seconds;
    const luma = Buffer.alloc(width * height);
    const chroma = Buffer.alloc((width / 2) * (height / 2));
    for (let f = 0; f < frames; f++) {
      const dx = (f * 7) % width;
      const dy = (f * 3) % height;
      const bar = Math.floor((f / frames) * width);
      for (let y = 0; y < height; y++) {
        texture.copy(luma, y * width, (y + dy) * tw + dx, (y + dy) * tw + dx + width);
        luma.fill(235, y * width + bar, y * width + Math.min(width, bar + 24));
      }
      await out.write(Buffer.from('FRAME\n'));
      await out.write(luma);
      for (const tint of [110 + (f % 30), 150 - (f % 30)]) {
        chroma.fill(tint);
        await out.write(chroma);
      }
    }
  } finally {
    await out.close();
  }
  const { rename } = await import('node:fs/promises');
  await rename(tmp, file);
  return file;
}
