import type { FastifyReply } from 'fastify';

/** One byte range of `size` bytes, or undefined for the whole file. */
export function parseRange(
  header: string | undefined,
  size: number,
): [number, number] | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (match[1] === '') {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return [start, end];
}

/**
 * Answer a GET for `size` bytes with `Range` support (a resumable download or a video element seeking):
 * 206 with the asked span, 200 with everything when no range is asked, 416 when the span lies past the
 * end. `read(start, end)` gives the bytes, both ends inclusive.
 */
export async function sendByteRange(
  reply: FastifyReply,
  range: string | undefined,
  size: number,
  contentType: string,
  read: (start: number, end: number) => unknown,
): Promise<void> {
  const span = parseRange(range, size);
  if (span === 'unsatisfiable') {
    await reply.status(416).header('content-range', `bytes */${size}`).send();
    return;
  }
  const [start, end] = span ?? [0, size - 1];
  void reply
    .status(span ? 206 : 200)
    .header('content-type', contentType)
    .header('accept-ranges', 'bytes')
    .header('content-length', String(end - start + 1))
    .header('cache-control', 'no-store');
  if (span) void reply.header('content-range', `bytes ${start}-${end}/${size}`);
  await reply.send(read(start, end));
}
