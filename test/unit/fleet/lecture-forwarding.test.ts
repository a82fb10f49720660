import { describe, expect, it } from 'vitest';
import {
  homeNode,
  planForwards,
  remoteIdFor,
  type LectureNode,
} from '../../../provisioning/domain/lecture-forwarding.js';
import { placeClass, type NodeForPlacement } from '../../../provisioning/domain/placement.js';

const TEACHER = { id: 1, display: '王老师 Teacher Wang', remote: false };
const RUIJIN = { id: 2, display: '瑞金教学点', remote: false };
const CHANGTING = { id: 3, display: '长汀教学点', remote: false };

const node = (
  nodeId: string,
  publishers: LectureNode['publishers'],
  remotes: Record<number, string[]> = {},
): LectureNode => ({
  nodeId,
  publishers,
  remotes: new Map(Object.entries(remotes).map(([id, list]) => [Number(id), list])),
});
const asRemote = (p: { id: number; display: string }) => ({ ...p, remote: true });

describe('forwards of a lecture spread over media nodes', () => {
  it('is at home where its longest-placed class is, among nodes that are up', () => {
    const classes = [
      { classId: 'b', nodeId: 'n2', placedAt: '2026-11-30T10:00:01Z' },
      { classId: 'a', nodeId: 'n1', placedAt: '2026-11-30T10:00:00Z' },
    ];
    expect(homeNode(classes, new Set(['n1', 'n2']))).toBe('n1');
    expect(homeNode(classes, new Set(['n2']))).toBe('n2');
    expect(homeNode(classes, new Set())).toBeUndefined();
  });

  it('forwards the home node publishers out and the outer nodes publishers home, never outer to outer', () => {
    const actions = planForwards('home', new Set(['home', 'fj', 'gd']), [
      node('home', [TEACHER, RUIJIN]),
      node('fj', [CHANGTING]),
      node('gd', []),
    ]);
    expect(actions).toEqual([
      { kind: 'forward', from: 'home', to: 'fj', publisherId: 1, display: TEACHER.display },
      { kind: 'forward', from: 'home', to: 'gd', publisherId: 1, display: TEACHER.display },
      { kind: 'forward', from: 'home', to: 'fj', publisherId: 2, display: RUIJIN.display },
      { kind: 'forward', from: 'home', to: 'gd', publisherId: 2, display: RUIJIN.display },
      { kind: 'forward', from: 'fj', to: 'home', publisherId: 3, display: CHANGTING.display },
    ]);
  });

  it('does nothing once every forward is in place', () => {
    const actions = planForwards('home', new Set(['home', 'fj']), [
      node('home', [TEACHER, asRemote(CHANGTING)], { 1: [remoteIdFor('fj')] }),
      node('fj', [CHANGTING, asRemote(TEACHER)], { 3: [remoteIdFor('home')] }),
    ]);
    expect(actions).toEqual([]);
  });

  it('redoes a forward whose remote publisher the receiving node lost (it restarted)', () => {
    const actions = planForwards('home', new Set(['home', 'fj']), [
      node('home', [TEACHER], { 1: [remoteIdFor('fj')] }),
      node('fj', []),
    ]);
    expect(actions).toEqual([
      { kind: 'unpublish', nodeId: 'home', publisherId: 1, remoteId: remoteIdFor('fj') },
      { kind: 'forward', from: 'home', to: 'fj', publisherId: 1, display: TEACHER.display },
    ]);
  });

  it('replaces a remote publisher nothing is forwarded to any more (its ports are not known)', () => {
    const actions = planForwards('home', new Set(['home', 'fj']), [
      node('home', [TEACHER]),
      node('fj', [asRemote(TEACHER)]),
    ]);
    expect(actions).toEqual([
      { kind: 'remove-remote', nodeId: 'fj', publisherId: 1 },
      { kind: 'forward', from: 'home', to: 'fj', publisherId: 1, display: TEACHER.display },
    ]);
  });

  it('removes the remote publishers of a dead node (no frozen tile) and stops forwards to a node left', () => {
    // gd is down (not in the nodes that answered); fj no longer carries a class of the lecture.
    const actions = planForwards('home', new Set(['home', 'gd']), [
      node('home', [TEACHER, { id: 9, display: '梅州教学点', remote: true }], {
        1: [remoteIdFor('fj'), remoteIdFor('gd'), 'someone-else'],
      }),
      node('fj', [asRemote(TEACHER)]),
    ]);
    expect(actions).toEqual([
      { kind: 'unpublish', nodeId: 'home', publisherId: 1, remoteId: remoteIdFor('fj') },
      { kind: 'unpublish', nodeId: 'home', publisherId: 1, remoteId: remoteIdFor('gd') },
      { kind: 'remove-remote', nodeId: 'home', publisherId: 9 },
      { kind: 'remove-remote', nodeId: 'fj', publisherId: 1 },
    ]);
  });
});

describe('placement of a lecture class', () => {
  const n = (id: string, region: string, over: Partial<NodeForPlacement> = {}): NodeForPlacement => ({
    id,
    region,
    capacity: 10,
    status: 'up',
    placed: 0,
    participants: 0,
    ...over,
  });

  it("goes to its own region's node rather than the lecture's node elsewhere: the lecture spreads", () => {
    const nodes = [n('jx', '江西', { placed: 1 }), n('fj', '福建')];
    const lecture = { nodeId: 'jx', fallbackIds: ['fj'] };
    expect(placeClass(nodes, '福建', lecture)).toEqual({ nodeId: 'fj', fallbackIds: ['jx'] });
    expect(placeClass(nodes, '江西', lecture)).toEqual(lecture);
    // No node of its region: with the lecture.
    expect(placeClass(nodes, '广东', lecture)).toEqual(lecture);
  });

  it("does not join the lecture's node once it is full", () => {
    const nodes = [n('jx-1', '江西', { placed: 10 }), n('jx-2', '江西')];
    expect(placeClass(nodes, '江西', { nodeId: 'jx-1', fallbackIds: ['jx-2'] })).toEqual({
      nodeId: 'jx-2',
      fallbackIds: [],
    });
  });
});
