import { beforeEach, describe, expect, it } from 'vitest';
import type { UpdateOffer } from '../../../common/release-manifest.js';
import { Signal } from '../../../common/signal.js';
import { deviceConfigSchema } from '../../../device/config/device-config.schema.js';
import type { TrialRecord, UpdateOutcome, UpdateRecord } from '../../../device/domain/update-plan.js';
import { RestartPort, UpdateError, UpdateStatePort } from '../../../device/ports/update.port.js';
import type { ClassSessionService } from '../../../device/services/class-session.service.js';
import { ConfigService } from '../../../device/services/config.service.js';
import type { FleetEnrolmentService } from '../../../device/services/fleet-enrolment.service.js';
import type { FleetSyncService } from '../../../device/services/fleet-sync.service.js';
import type { LifecycleService } from '../../../device/services/lifecycle.service.js';
import type { NextClassService } from '../../../device/services/next-class.service.js';
import type { Recovery, ReleaseInstaller } from '../../../device/services/release-installer.js';
import { UpdaterService } from '../../../device/services/updater.service.js';
import { strictFake } from '../../helpers/strict-fake.js';
import { FakeClock, flush } from '../../helpers/fake-clock.js';

const OFFER: UpdateOffer = {
  version: '1.5.0',
  manifest: '{}',
  signature: { keyId: '0123456789abcdef', signature: 'c2ln' },
  payloadPath: '/api/v1/devices/jx-ruijin-01/releases/1.5.0/payload',
};

const RECORD = { version: '1.5.0', step: 'downloading' } as UpdateRecord;

/** The updater's decisions with every port faked strictly, on a fake clock. */
describe('the updater', () => {
  let clock: FakeClock;
  let state: { value: string };
  let sessionChanged: Signal<unknown>;
  let offered: Signal<UpdateOffer | undefined>;
  let healthy: boolean;
  let reachable: boolean;
  let classWindow: { title: string; startsAt: string; endsAt: string } | undefined;
  let recovery: Recovery;
  let calls: string[];
  let continueResult: Promise<'switched' | 'held'>;
  let outcomes: UpdateOutcome[];
  let sut: UpdaterService;

  const config = new ConfigService(
    deviceConfigSchema.parse({
      device: { id: 'jx-ruijin-01', displayName: '瑞金' },
      janus: { url: 'ws://j:8188', room: 1 },
      update: { healthTimeoutSec: 60, classGuardMinutes: 20 },
    }),
  );

  beforeEach(() => {
    clock = new FakeClock();
    state = { value: 'idle' };
    sessionChanged = new Signal('session.changed');
    offered = new Signal('fleet.updateOffered');
    healthy = false;
    reachable = false;
    classWindow = undefined;
    recovery = { kind: 'steady', current: '1.4.0' };
    calls = [];
    outcomes = [];
    continueResult = Promise.resolve('switched');
    const installer = strictFake<ReleaseInstaller>('installer', {
      recover: (count) => {
        calls.push(`recover:${count}`);
        return Promise.resolve(recovery);
      },
      begin: (offer) => {
        calls.push(`begin:${offer.version}`);
        return Promise.resolve(RECORD);
      },
      continue: (_record, _session, _progress, maySwitch) => {
        calls.push(`continue:maySwitch=${maySwitch!()}`);
        return continueResult;
      },
      confirm: (trial) => {
        calls.push(`confirm:${trial.version}`);
        return Promise.resolve();
      },
      rollback: (trial, code) => {
        calls.push(`rollback:${trial.version}:${code}`);
        return Promise.resolve(trial.previous ?? trial.version);
      },
    });
    const store = strictFake<UpdateStatePort>('state', {
      readOutcome: () => Promise.resolve(undefined),
      writeOutcome: (outcome) => {
        outcomes.push(outcome);
        return Promise.resolve();
      },
    });
    const restart = strictFake<RestartPort>('restart', {
      restart: (why) => {
        calls.push(`restart:${why}`);
        return Promise.resolve();
      },
    });
    const fleet = strictFake<FleetSyncService>('fleet', {
      reportUpdatesWith: () => undefined,
      updateOffered: offered,
      isReachable: () => reachable,
    });
    const enrolment = strictFake<FleetEnrolmentService>('enrolment', { signingSession: () => undefined });
    const nextClass = strictFake<NextClassService>('nextClass', { window: () => classWindow });
    const session = strictFake<ClassSessionService>('session', {
      get state() {
        return { state: state.value } as ClassSessionService['state'];
      },
      changed: sessionChanged as ClassSessionService['changed'],
    });
    const lifecycle = strictFake<LifecycleService>('lifecycle', { isProvenHealthy: () => healthy });
    sut = new UpdaterService(
      installer,
      store,
      restart,
      fleet,
      enrolment,
      nextClass,
      session,
      lifecycle,
      config,
      clock,
    );
  });

  const start = async () => {
    await sut.onModuleInit();
    sut.onApplicationBootstrap();
  };

  it('waits for a live class to end, then installs and restarts', async () => {
    await start();
    state.value = 'live';
    offered.emit(OFFER);
    await flush();
    expect(sut.status()).toEqual({ state: 'waiting', version: '1.5.0', detail: 'a class is live' });
    expect(calls).toEqual(['recover:true']);

    state.value = 'idle';
    sessionChanged.emit(undefined);
    await sut.settled();
    expect(calls).toEqual([
      'recover:true',
      'begin:1.5.0',
      'continue:maySwitch=true',
      'restart:update to 1.5.0',
    ]);
    expect(sut.status()).toEqual({ state: 'restarting', version: '1.5.0' });
  });

  it('does not start inside the guard before a timetabled class', async () => {
    await start();
    const startsAt = clock.now() + 10 * 60_000;
    classWindow = {
      title: '数学',
      startsAt: new Date(startsAt).toISOString(),
      endsAt: new Date(startsAt + 90 * 60_000).toISOString(),
    };
    offered.emit(OFFER);
    await flush();
    expect(sut.status()).toMatchObject({
      state: 'waiting',
      detail: expect.stringMatching(/timetabled class/),
    });
    expect(calls).toEqual(['recover:true']);

    // The periodic check picks it up once the class is over.
    await clock.advance(101 * 60_000);
    await sut.settled();
    expect(calls.at(-1)).toBe('restart:update to 1.5.0');
  });

  it('holds the switch when a class started during the download', async () => {
    await start();
    continueResult = Promise.resolve('held');
    offered.emit(OFFER);
    await sut.settled();
    expect(calls).toEqual(['recover:true', 'begin:1.5.0', 'continue:maySwitch=true']);
    expect(sut.status()).toEqual({ state: 'installing', version: '1.5.0' });
  });

  it('ignores the version it already runs', async () => {
    recovery = { kind: 'steady', current: '1.5.0' };
    await start();
    offered.emit(OFFER);
    await sut.settled();
    expect(calls).toEqual(['recover:true']);
  });

  it('reports a refused release once and does not try it again', async () => {
    continueResult = Promise.reject(new UpdateError('E-UPDATE-HASH', 'the payload does not match'));
    await start();
    offered.emit(OFFER);
    await sut.settled();
    expect(sut.status()).toEqual({
      state: 'failed',
      version: '1.5.0',
      code: 'E-UPDATE-HASH',
      detail: 'the payload does not match',
    });
    expect(outcomes).toMatchObject([{ version: '1.5.0', result: 'failed', code: 'E-UPDATE-HASH' }]);
    offered.emit(OFFER);
    await sut.settled();
    expect(calls.filter((c) => c.startsWith('begin'))).toHaveLength(1);
  });

  it('tries a broken download again at the next offer', async () => {
    continueResult = Promise.reject(
      new UpdateError('E-UPDATE-DOWNLOAD', 'the download broke off at byte 10'),
    );
    await start();
    offered.emit(OFFER);
    await sut.settled();
    expect(sut.status()).toMatchObject({ state: 'failed', code: 'E-UPDATE-DOWNLOAD' });
    expect(outcomes).toEqual([]);
    continueResult = Promise.resolve('switched');
    offered.emit(OFFER);
    await sut.settled();
    expect(calls.at(-1)).toBe('restart:update to 1.5.0');
  });

  it('restarts at once into the old version when the start found a failed trial', async () => {
    recovery = {
      kind: 'rolled-back',
      version: '1.5.0',
      to: '1.4.0',
      code: 'E-UPDATE-CRASH-LOOP',
      detail: 'started 4 times',
    };
    await start();
    expect(calls).toEqual(['recover:true', 'restart:rolled back to 1.4.0']);
    expect(sut.status()).toMatchObject({
      state: 'rolled-back',
      version: '1.5.0',
      code: 'E-UPDATE-CRASH-LOOP',
    });
  });

  describe('on trial', () => {
    const trial = (): TrialRecord => ({
      version: '1.5.0',
      previous: '1.4.0',
      deadline: clock.now() + 60_000,
      starts: 1,
    });

    it('confirms once READY and a heartbeat got through', async () => {
      recovery = { kind: 'trial', trial: trial() };
      await start();
      expect(sut.status()).toEqual({ state: 'trial', version: '1.5.0' });
      healthy = true;
      await clock.advance(10_000);
      expect(calls).toEqual(['recover:true']);
      reachable = true;
      await clock.advance(2_000);
      expect(calls).toEqual(['recover:true', 'confirm:1.5.0']);
      expect(sut.status()).toEqual({ state: 'installed', version: '1.5.0' });
      await clock.advance(120_000);
      expect(calls).toEqual(['recover:true', 'confirm:1.5.0']);
    });

    it('rolls back and restarts when not healthy by the deadline', async () => {
      recovery = { kind: 'trial', trial: trial() };
      await start();
      healthy = true;
      await clock.advance(61_000);
      expect(calls).toEqual([
        'recover:true',
        'rollback:1.5.0:E-UPDATE-UNHEALTHY',
        'restart:rolled back to 1.4.0',
      ]);
      expect(sut.status()).toMatchObject({
        state: 'rolled-back',
        version: '1.5.0',
        code: 'E-UPDATE-UNHEALTHY',
      });
    });

    it('takes no other update while on trial', async () => {
      recovery = { kind: 'trial', trial: trial() };
      await start();
      offered.emit({ ...OFFER, version: '1.6.0' });
      await sut.settled();
      expect(calls).toEqual(['recover:true']);
    });
  });
});
