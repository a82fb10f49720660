/**
 * The cameras `rpicam-hello --list-cameras` reports (CSI sensors on the Pi's camera connectors).
 * Output format as documented in the Raspberry Pi camera software guide; "No cameras available!"
 * when nothing is connected.
 */
export interface CsiMode {
  readonly format: string;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

export interface CsiCamera {
  readonly index: number;
  /** Sensor name, e.g. "imx708_wide". */
  readonly name: string;
  readonly width: number;
  readonly height: number;
  /** Device-tree path, e.g. "/base/soc/i2c0mux/i2c@1/imx708@1a". */
  readonly path: string;
  readonly modes: readonly CsiMode[];
}

export type CameraListing = { ok: true; cameras: CsiCamera[] } | { ok: false; problem: string };

const CAMERA_LINE = /^(\d+)\s*:\s*(\S+)\s*\[(\d+)x(\d+)[^\]]*\]\s*\((.+)\)\s*$/;
const MODE_ENTRY = /(?:'([A-Za-z0-9_]+)'\s*:\s*)?(\d+)x(\d+)\s*\[([\d.]+)\s*fps/;

export function parseListCameras(output: string): CameraListing {
  const lines = output.split(/\r?\n/);
  if (lines.some((l) => l.trim() === 'No cameras available!')) return { ok: true, cameras: [] };
  if (!lines.some((l) => l.trim() === 'Available cameras')) {
    const first = lines.find((l) => l.trim() !== '')?.trim() ?? 'no output';
    return { ok: false, problem: `unexpected rpicam-hello output: ${first.slice(0, 200)}` };
  }
  const cameras: { camera: Omit<CsiCamera, 'modes'>; modes: CsiMode[] }[] = [];
  let format = '';
  for (const line of lines) {
    const camera = CAMERA_LINE.exec(line.trim());
    if (camera) {
      const [, index, name, width, height, path] = camera;
      cameras.push({
        camera: {
          index: Number(index),
          name: name!,
          width: Number(width),
          height: Number(height),
          path: path!,
        },
        modes: [],
      });
      format = '';
      continue;
    }
    const mode = MODE_ENTRY.exec(line);
    const current = cameras.at(-1);
    if (mode && current) {
      format = mode[1] ?? format;
      current.modes.push({ format, width: Number(mode[2]), height: Number(mode[3]), fps: Number(mode[4]) });
    }
  }
  return { ok: true, cameras: cameras.map(({ camera, modes }) => ({ ...camera, modes })) };
}
