import { describe, expect, it } from 'vitest';
import {
  findBootPartition,
  PARTITION_TABLE_BYTES,
  PartitionTableError,
} from '../../../provisioning/flash-helper/partition-table.js';

function mbr(entries: { type: number; lba: number; sectors: number }[]): Buffer {
  const head = Buffer.alloc(PARTITION_TABLE_BYTES);
  entries.forEach((e, i) => {
    const at = 446 + i * 16;
    head[at + 4] = e.type;
    head.writeUInt32LE(e.lba, at + 8);
    head.writeUInt32LE(e.sectors, at + 12);
  });
  head.writeUInt16LE(0xaa55, 510);
  return head;
}

/** Writes a GUID the way GPT stores it: first three fields little-endian. */
function guidBytes(text: string): Buffer {
  const [a, b, c, d, e] = text.split('-') as [string, string, string, string, string];
  const le = (hex: string) => Buffer.from(hex, 'hex').reverse();
  return Buffer.concat([le(a), le(b), le(c), Buffer.from(d, 'hex'), Buffer.from(e, 'hex')]);
}

function gpt(parts: { type: string; first: number; last: number }[]): Buffer {
  const head = mbr([{ type: 0xee, lba: 1, sectors: 0xffffffff }]);
  const header = head.subarray(512, 1024);
  header.write('EFI PART', 0, 'latin1');
  header.writeBigUInt64LE(2n, 72);
  header.writeUInt32LE(128, 80);
  header.writeUInt32LE(128, 84);
  parts.forEach((p, i) => {
    const at = 1024 + i * 128;
    guidBytes(p.type).copy(head, at);
    head.writeBigUInt64LE(BigInt(p.first), at + 32);
    head.writeBigUInt64LE(BigInt(p.last), at + 40);
  });
  return head;
}

describe('findBootPartition', () => {
  it('finds the FAT32 boot partition of a Raspberry Pi OS image (MBR)', () => {
    const head = mbr([
      { type: 0x0c, lba: 16_384, sectors: 1_048_576 },
      { type: 0x83, lba: 1_064_960, sectors: 4_000_000 },
    ]);
    expect(findBootPartition(head)).toEqual({
      index: 1,
      offsetBytes: 16_384 * 512,
      sizeBytes: 1_048_576 * 512,
      scheme: 'mbr',
    });
  });

  it('takes the first FAT partition even when it is not the first entry', () => {
    const head = mbr([
      { type: 0x83, lba: 2048, sectors: 100 },
      { type: 0x0e, lba: 4096, sectors: 200 },
    ]);
    expect(findBootPartition(head)).toMatchObject({ index: 2, offsetBytes: 4096 * 512 });
  });

  it('finds an EFI system partition in a GPT image, past a basic Linux partition', () => {
    const head = gpt([
      { type: '0fc63daf-8483-4772-8e79-3d69d8477de4', first: 2048, last: 4095 },
      { type: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b', first: 8192, last: 8192 + 2047 },
    ]);
    expect(findBootPartition(head)).toEqual({
      index: 2,
      offsetBytes: 8192 * 512,
      sizeBytes: 2048 * 512,
      scheme: 'gpt',
    });
  });

  it('explains what it found when there is no FAT partition or no table', () => {
    expect(() => findBootPartition(mbr([{ type: 0x83, lba: 2048, sectors: 10 }]))).toThrow(
      'no FAT partition in the MBR (partition types: 0x83)',
    );
    expect(() => findBootPartition(Buffer.alloc(PARTITION_TABLE_BYTES))).toThrow(PartitionTableError);
    expect(() => findBootPartition(Buffer.alloc(100))).toThrow('too small');
    const noHeader = mbr([{ type: 0xee, lba: 1, sectors: 100 }]);
    expect(() => findBootPartition(noHeader)).toThrow('protective MBR without a GPT header');
  });
});
