import { describe, expect, it } from 'vitest';
import {
  placeClass,
  rankNodes,
  replaceClass,
  type NodeForPlacement,
} from '../../../provisioning/domain/placement.js';

const node = (id: string, over: Partial<NodeForPlacement> = {}): NodeForPlacement => ({
  id,
  region: '江西',
  capacity: 10,
  status: 'up',
  placed: 0,
  participants: 0,
  ...over,
});

describe('placement of classes on media nodes', () => {
  it('puts a class on the least loaded node of its region before any node elsewhere', () => {
    const nodes = [
      node('fj-1', { region: '福建', placed: 0 }),
      node('jx-1', { placed: 5 }),
      node('jx-2', { placed: 2 }),
    ];
    expect(placeClass(nodes, '江西')).toEqual({ nodeId: 'jx-2', fallbackIds: ['jx-1', 'fj-1'] });
  });

  it('weighs load against capacity, then participants measured', () => {
    const nodes = [
      node('a', { placed: 4, capacity: 10 }),
      node('b', { placed: 8, capacity: 40 }),
      node('c', { placed: 1, capacity: 10, participants: 30 }),
      node('d', { placed: 1, capacity: 10, participants: 3 }),
    ];
    expect(rankNodes(nodes, '江西').map((n) => n.id)).toEqual(['d', 'c', 'b', 'a']);
  });

  it('never uses a node that is down, not yet checked, or full', () => {
    const nodes = [
      node('down', { status: 'down' }),
      node('new', { status: 'unknown' }),
      node('full', { placed: 10 }),
    ];
    expect(placeClass(nodes, '江西')).toBeUndefined();
    expect(placeClass([...nodes, node('ok', { region: '福建' })], '江西')).toEqual({
      nodeId: 'ok',
      fallbackIds: [],
    });
  });

  it('moves a class off a dead node to its first usable fallback, as a box without the fleet would', () => {
    const nodes = [
      node('dead', { status: 'down' }),
      // Better ranked than the fallback, yet not chosen: boxes walking their list would not find it.
      node('idle', { placed: 0 }),
      node('fb-1', { placed: 9, status: 'down' }),
      node('fb-2', { placed: 7 }),
    ];
    expect(replaceClass(nodes, '江西', { nodeId: 'dead', fallbackIds: ['fb-1', 'fb-2'] })).toEqual({
      nodeId: 'fb-2',
      fallbackIds: ['idle'],
    });
  });

  it('moves a class to the best node when none of its fallbacks can take it, and nowhere when no node is up', () => {
    const nodes = [node('dead', { status: 'down' }), node('x', { placed: 3 }), node('y', { placed: 1 })];
    expect(replaceClass(nodes, '江西', { nodeId: 'dead', fallbackIds: [] })).toEqual({
      nodeId: 'y',
      fallbackIds: ['x'],
    });
    expect(
      replaceClass([node('dead', { status: 'down' })], '江西', { nodeId: 'dead', fallbackIds: [] }),
    ).toBeUndefined();
  });

  it("puts a class with its lecture (the same room) while the lecture's node is up, else as any class", () => {
    const lecture = { nodeId: 'busy', fallbackIds: ['fb'] };
    const nodes = [node('busy', { placed: 9 }), node('idle'), node('fb', { region: '福建' })];
    expect(placeClass(nodes, '江西', lecture)).toEqual(lecture);
    const down = [node('busy', { status: 'down' }), node('idle'), node('fb', { region: '福建' })];
    expect(placeClass(down, '江西', lecture)).toEqual({ nodeId: 'idle', fallbackIds: ['fb'] });
  });
});
