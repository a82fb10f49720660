import { ClassboxError } from '../../common/errors.js';

/**
 * Finds the FAT boot partition in a disk image's partition table (MBR or GPT), so the seed can be written
 * with mtools at a byte offset without mounting anything. Pure: works on the first sectors as a buffer.
 */

export const SECTOR_BYTES = 512;

export interface BootPartition {
  readonly index: number;
  readonly offsetBytes: number;
  readonly sizeBytes: number;
  readonly scheme: 'mbr' | 'gpt';
}

export class PartitionTableError extends ClassboxError<'E-FLASH-PARTITION-TABLE'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E-FLASH-PARTITION-TABLE', message, options);
  }
}

/** MBR types of FAT file systems: FAT12, FAT16 (<32M, >32M), FAT32 (CHS, LBA), FAT16 LBA, EFI system. */
const MBR_FAT_TYPES = new Set([0x01, 0x04, 0x06, 0x0b, 0x0c, 0x0e, 0xef]);
const MBR_GPT_PROTECTIVE = 0xee;
/** GPT partition type GUIDs (mixed-endian, as read from disk): EFI system, Microsoft basic data. */
const GPT_FAT_TYPES = new Set([
  'c12a7328-f81f-11d2-ba4b-00a0c93ec93b',
  'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7',
]);

/** Bytes needed from the start of the disk to read either scheme's first 128 GPT entries. */
export const PARTITION_TABLE_BYTES = SECTOR_BYTES * 34;

export function findBootPartition(head: Buffer): BootPartition {
  if (head.length < SECTOR_BYTES)
    throw new PartitionTableError(`the image is too small (${head.length} bytes) to hold a partition table`);
  if (head.readUInt16LE(510) !== 0xaa55)
    throw new PartitionTableError('no partition table (the first sector has no 0x55AA signature)');
  const entries = [0, 1, 2, 3].map((i) => {
    const at = 446 + i * 16;
    return {
      index: i + 1,
      type: head[at + 4]!,
      lba: head.readUInt32LE(at + 8),
      sectors: head.readUInt32LE(at + 12),
    };
  });
  if (entries.some((e) => e.type === MBR_GPT_PROTECTIVE)) return findGptBootPartition(head);
  const fat = entries.find((e) => MBR_FAT_TYPES.has(e.type) && e.sectors > 0);
  if (!fat) {
    const seen = entries.filter((e) => e.type !== 0).map((e) => `0x${e.type.toString(16).padStart(2, '0')}`);
    throw new PartitionTableError(
      `no FAT partition in the MBR (partition types: ${seen.join(', ') || 'none'})`,
    );
  }
  return {
    index: fat.index,
    offsetBytes: fat.lba * SECTOR_BYTES,
    sizeBytes: fat.sectors * SECTOR_BYTES,
    scheme: 'mbr',
  };
}

function findGptBootPartition(head: Buffer): BootPartition {
  if (head.length < SECTOR_BYTES * 2) throw new PartitionTableError('the GPT header is cut off');
  const header = head.subarray(SECTOR_BYTES, SECTOR_BYTES * 2);
  if (header.toString('latin1', 0, 8) !== 'EFI PART')
    throw new PartitionTableError('protective MBR without a GPT header');
  const entriesLba = Number(header.readBigUInt64LE(72));
  const count = header.readUInt32LE(80);
  const entrySize = header.readUInt32LE(84);
  if (entrySize < 128) throw new PartitionTableError(`GPT entry size ${entrySize} is below 128`);
  for (let i = 0; i < count; i++) {
    const at = entriesLba * SECTOR_BYTES + i * entrySize;
    if (at + 128 > head.length) break;
    const type = guid(head.subarray(at, at + 16));
    if (!GPT_FAT_TYPES.has(type)) continue;
    const first = Number(head.readBigUInt64LE(at + 32));
    const last = Number(head.readBigUInt64LE(at + 40));
    return {
      index: i + 1,
      offsetBytes: first * SECTOR_BYTES,
      sizeBytes: (last - first + 1) * SECTOR_BYTES,
      scheme: 'gpt',
    };
  }
  throw new PartitionTableError('no EFI system or basic data partition in the GPT');
}

/** A GUID as text: the first three fields are little-endian on disk. */
function guid(bytes: Buffer): string {
  const hex = (b: Buffer) => b.toString('hex');
  const le = (b: Buffer) => hex(Buffer.from(b).reverse());
  return [
    le(bytes.subarray(0, 4)),
    le(bytes.subarray(4, 6)),
    le(bytes.subarray(6, 8)),
    hex(bytes.subarray(8, 10)),
    hex(bytes.subarray(10, 16)),
  ].join('-');
}
