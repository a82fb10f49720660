/**
 * ALSA sound devices, from the kernel's /proc/asound files or from `arecord -l` / `aplay -l`,
 * and the choice of the box's microphone and speaker among them.
 */
export interface AlsaPcm {
  readonly card: number;
  readonly device: number;
  /** Card id, e.g. "Device", "vc4hdmi0", "Headphones". */
  readonly cardId: string;
  /** Card name, e.g. "USB PnP Sound Device", "vc4-hdmi-0"; ALSA-only Chromium labels devices with it. */
  readonly cardName: string;
  readonly pcmName: string;
  readonly playback: boolean;
  readonly capture: boolean;
}

export type AudioDirection = 'capture' | 'playback';

interface CardLine {
  readonly index: number;
  readonly id: string;
  readonly name: string;
}

/** `/proc/asound/cards`: " 3 [Device         ]: USB-Audio - USB PnP Sound Device" (+ a long-name line). */
export function parseAsoundCards(text: string): CardLine[] {
  const cards: CardLine[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*(\d+)\s+\[([^\]]+)\]:\s*\S.*? - (.+)$/.exec(line);
    if (match) cards.push({ index: Number(match[1]), id: match[2]!.trim(), name: match[3]!.trim() });
  }
  return cards;
}

/** `/proc/asound/pcm` ("03-00: USB Audio : USB Audio : playback 1 : capture 1") joined with the cards. */
export function parseAsoundPcm(pcmText: string, cardsText: string): AlsaPcm[] {
  const cards = new Map(parseAsoundCards(cardsText).map((c) => [c.index, c]));
  const pcms: AlsaPcm[] = [];
  for (const line of pcmText.split('\n')) {
    const match = /^(\d+)-(\d+):\s*(.*)$/.exec(line.trim());
    if (!match) continue;
    const fields = match[3]!.split(' : ').map((f) => f.trim());
    const card = Number(match[1]);
    const info = cards.get(card);
    pcms.push({
      card,
      device: Number(match[2]),
      cardId: info?.id ?? `card${card}`,
      cardName: info?.name ?? fields[0] ?? '',
      pcmName: fields[0] ?? '',
      playback: fields.some((f) => /^playback \d+$/.test(f)),
      capture: fields.some((f) => /^capture \d+$/.test(f)),
    });
  }
  return pcms;
}

/**
 * `arecord -l` or `aplay -l`: "card 3: Device [USB PnP Sound Device], device 0: USB Audio [USB Audio]".
 * The header line says which direction the list is.
 */
export function parseAlsaList(text: string): AlsaPcm[] {
  const direction: AudioDirection | undefined = /List of CAPTURE Hardware Devices/.test(text)
    ? 'capture'
    : /List of PLAYBACK Hardware Devices/.test(text)
      ? 'playback'
      : undefined;
  if (!direction) return [];
  const pcms: AlsaPcm[] = [];
  for (const line of text.split('\n')) {
    const match = /^card (\d+): (\S+) \[(.*)\], device (\d+): (.*) \[(.*)\]\s*$/.exec(line);
    if (!match) continue;
    pcms.push({
      card: Number(match[1]),
      device: Number(match[4]),
      cardId: match[2]!,
      cardName: match[3]!,
      pcmName: match[6]!,
      playback: direction === 'playback',
      capture: direction === 'capture',
    });
  }
  return pcms;
}

/** "hw:3,0" */
export function alsaAddress(pcm: AlsaPcm): string {
  return `hw:${pcm.card},${pcm.device}`;
}

/**
 * The configured device (a case-insensitive part of its card id, card name or PCM name, so "hdmi",
 * "usb" or "PnP" all work) or, without one: the first capture device for the microphone, and for
 * the speaker the first HDMI output (the classroom's TV or projector), else the first output.
 */
export function chooseAudio(
  pcms: readonly AlsaPcm[],
  direction: AudioDirection,
  fragment?: string,
): AlsaPcm | undefined {
  const candidates = pcms.filter((p) => p[direction]);
  if (fragment !== undefined) {
    const wanted = fragment.toLowerCase();
    return candidates.find((p) =>
      [p.cardId, p.cardName, p.pcmName].some((s) => s.toLowerCase().includes(wanted)),
    );
  }
  if (direction === 'playback') return candidates.find(isHdmi) ?? candidates[0];
  return candidates[0];
}

function isHdmi(pcm: AlsaPcm): boolean {
  return /hdmi/i.test(`${pcm.cardId} ${pcm.cardName}`);
}
