// The teacher's side of a class, on janus.js: publish camera and microphone, watch every centre.
// Used by `classbox demo` (open it in any browser) and by the tests as "a separate participant".
(function () {
  'use strict';
  const CLOCK_WRAP = 1 << 24;
  /** The inbound-rtp audio counters the bench reads to tell the link's loss from the jitter buffer's. */
  const AUDIO_COUNTERS = [
    'packetsReceived',
    'packetsLost',
    'packetsDiscarded',
    'fecPacketsReceived',
    'fecPacketsDiscarded',
    'concealedSamples',
    'silentConcealedSamples',
    'concealmentEvents',
    'insertedSamplesForDeceleration',
    'removedSamplesForAcceleration',
    'totalSamplesReceived',
    'jitterBufferDelay',
    'jitterBufferTargetDelay',
    'jitterBufferMinimumDelay',
    'jitterBufferEmittedCount',
    'totalAudioEnergy',
    'totalSamplesDuration',
  ];
  const params = new URLSearchParams(location.search);
  // class=ID: ask the fleet (through this page's server, which holds the credential) which media node and
  // room the class is on, and again whenever that Janus is gone (issue 19). lecture=ROOM: the same for a
  // lecture spread over nodes; the fleet names the node its teacher publishes on. Else janus= and room=.
  const lecture = params.get('lecture');
  const classId = params.get('class') || (lecture ? `lecture:${lecture}` : null);
  let server = params.get('janus');
  let room = Number(params.get('room') || 2222);
  const display = params.get('display') || '老师 Teacher';
  const pin = params.get('pin') || undefined;
  // publish=audio: a teacher with sound only (tests of a weak shared link); publish=none: a viewer only
  // (the bench's subscribers: each one stream out of Janus, no stream in).
  const sendVideo = params.get('publish') !== 'audio';
  const sendNothing = params.get('publish') === 'none';
  // simulcast=1: send janus.js's three layers (h, m, l), as a teacher's desktop client should so each box
  // takes the layer its link carries; capture=stdres-16:9 (janus.js's names): a smaller camera.
  const simulcast = params.get('simulcast') === '1';
  // capture=clock: the picture is the clock (the bench's latency figure, issue 19): 24 black or white
  // blocks carry the epoch milliseconds modulo 2^24, read back by `window.teacher.clockLatency(feed)`.
  const clock = params.get('capture') === 'clock';
  const capture = clock ? clockTrack() : params.get('capture') || true;
  // subscribe=none: receive no one (a simulated centre that only sends, cheap on the test machine).
  // subscribe=only:NAME: receive only the publisher named NAME (the bench's observer of one box).
  const receive = params.get('subscribe') !== 'none';
  const only = (params.get('subscribe') || '').startsWith('only:') ? params.get('subscribe').slice(5) : null;
  // record=1: the class is recorded for the centres that miss part of it (issue 21). The room's rec_dir
  // holds the files; the name carries the class's start, which the fleet finds the recording by.
  const record = params.get('record') === '1';
  const statusEl = document.getElementById('status');
  document.getElementById('room').textContent = `课堂 Room ${room}`;

  const state = {
    joined: false,
    feed: null,
    error: null,
    publishers: new Map(),
    mids: new Map(),
    joinedAt: 0,
    firstFrameAt: {},
  };
  let janus,
    pub,
    sub,
    subJoining = false;
  /** Counts connections to Janus (issue 19): a late error of an abandoned one is ignored. */
  let attempt = 0;
  const subscribed = new Set();
  const tiles = new Map();

  function status(text) {
    statusEl.textContent = text;
  }

  function tileFor(feed) {
    let t = tiles.get(feed);
    if (!t) {
      const div = document.createElement('div');
      div.className = 'tile';
      div.dataset.feed = feed;
      const video = document.createElement('video');
      video.autoplay = true;
      video.playsInline = true;
      const label = document.createElement('span');
      div.append(video, label);
      document.getElementById('grid').append(div);
      t = { div, video, label, stream: new MediaStream() };
      video.srcObject = t.stream;
      video.requestVideoFrameCallback?.(() => {
        state.firstFrameAt[feed] = performance.now();
      });
      tiles.set(feed, t);
    }
    t.label.textContent = (state.publishers.get(feed) || {}).display || feed;
    return t;
  }

  function removeFeed(feed) {
    feed = String(feed);
    state.publishers.delete(feed);
    const t = tiles.get(feed);
    if (t) {
      t.div.remove();
      tiles.delete(feed);
    }
    if (subscribed.has(feed) && sub) {
      subscribed.delete(feed);
      sub.send({ message: { request: 'unsubscribe', streams: [{ feed: Number(feed) }] } });
    }
  }

  function addPublishers(list) {
    if (!receive) {
      for (const p of list || []) state.publishers.set(String(p.id), { display: p.display || String(p.id) });
      return;
    }
    const fresh = [];
    for (const p of list || []) {
      const feed = String(p.id);
      state.publishers.set(feed, { display: p.display || feed });
      if (only !== null && p.display !== only) continue;
      if (!subscribed.has(feed)) {
        subscribed.add(feed);
        fresh.push({ feed: p.id });
      }
    }
    if (fresh.length === 0) return;
    if (!sub && !subJoining) attachSubscriber(fresh);
    else if (sub) sub.send({ message: { request: 'subscribe', streams: fresh } });
    else pendingSubs.push(...fresh);
  }
  const pendingSubs = [];

  function attachSubscriber(streams) {
    subJoining = true;
    janus.attach({
      plugin: 'janus.plugin.videoroom',
      success(handle) {
        sub = handle;
        sub.send({
          message: {
            request: 'join',
            ptype: 'subscriber',
            room,
            pin,
            streams: streams.concat(pendingSubs.splice(0)),
            use_msid: true,
          },
        });
      },
      error(e) {
        state.error = String(e);
      },
      onmessage(msg, jsep) {
        if (msg.streams)
          for (const s of msg.streams) if (s.feed_id !== undefined) state.mids.set(s.mid, String(s.feed_id));
        if (msg.error) state.error = msg.error;
        if (jsep) {
          sub.createAnswer({
            jsep,
            tracks: [{ type: 'data' }],
            success(answer) {
              sub.send({ message: { request: 'start', room }, jsep: answer });
            },
            error(e) {
              state.error = 'answer: ' + e;
            },
          });
        }
      },
      onremotetrack(track, mid, on) {
        const feed = state.mids.get(mid);
        if (!feed) return;
        const t = tileFor(feed);
        for (const old of t.stream.getTracks().filter((x) => x.kind === track.kind))
          t.stream.removeTrack(old);
        if (on) t.stream.addTrack(track);
        t.video.play().catch(() => {});
      },
    });
  }

  /** A 640x480 canvas at 30 fps showing the epoch ms as a 6x4 grid of blocks, most significant first. */
  function clockTrack() {
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 480;
    const g = canvas.getContext('2d');
    const draw = () => {
      const ms = Math.floor(performance.timeOrigin + performance.now()) % CLOCK_WRAP;
      for (let bit = 0; bit < 24; bit++) {
        g.fillStyle = (ms >> (23 - bit)) & 1 ? '#fff' : '#000';
        g.fillRect((bit % 6) * 106, Math.floor(bit / 6) * 120, 106, 120);
      }
    };
    draw();
    window.setInterval(draw, 10);
    return canvas.captureStream(30).getVideoTracks()[0];
  }

  /** The clock read from a feed's next frame shown, minus the time then: its glass-to-glass latency, ms. */
  async function clockLatency(feed) {
    const t = tiles.get(String(feed));
    if (!t || t.video.videoWidth === 0) return null;
    await new Promise((resolve) => t.video.requestVideoFrameCallback(resolve));
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 480;
    const g = canvas.getContext('2d', { willReadFrequently: true });
    g.drawImage(t.video, 0, 0, 640, 480);
    const now = Math.floor(performance.timeOrigin + performance.now()) % CLOCK_WRAP;
    let ms = 0;
    for (let bit = 0; bit < 24; bit++) {
      const [r] = g.getImageData((bit % 6) * 106 + 53, Math.floor(bit / 6) * 120 + 60, 1, 1).data;
      ms = ms * 2 + (r > 127 ? 1 : 0);
    }
    return (now - ms + CLOCK_WRAP) % CLOCK_WRAP;
  }

  function publish() {
    pub.createOffer({
      tracks: [
        { type: 'audio', capture: true, recv: false },
        ...(sendVideo ? [{ type: 'video', capture, recv: false, simulcast }] : []),
      ],
      success(jsep) {
        const recording = record ? { record: true, filename: `teacher-${room}-${Date.now()}` } : {};
        pub.send({ message: { request: 'configure', audio: true, video: sendVideo, ...recording }, jsep });
      },
      error(e) {
        state.error = 'offer: ' + e;
        status('无法打开摄像头 Camera error: ' + e);
      },
    });
  }

  /** Where the class is now, from the fleet (`class=` only). */
  async function locate() {
    const res = await window.fetch(
      lecture
        ? `placement?lecture=${encodeURIComponent(lecture)}`
        : `placement?class=${encodeURIComponent(classId)}`,
    );
    if (!res.ok) throw new Error(`placement: HTTP ${res.status}`);
    const placement = await res.json();
    server = placement.node.wsUrl;
    room = placement.room;
    state.node = placement.node.id;
    document.getElementById('room').textContent = `课堂 Room ${room}`;
  }

  /** Its Janus is gone: forget that node's feeds and handles, ask where the class is, join there. */
  function followClass() {
    // A lost connection can report more than one error: only the newest connection's first one counts.
    attempt++;
    status('课堂服务器故障，正在转到备用服务器 The class server failed; moving to a standby server');
    state.joined = false;
    state.feed = null;
    state.publishers.clear();
    state.mids.clear();
    subscribed.clear();
    for (const t of tiles.values()) t.div.remove();
    tiles.clear();
    pendingSubs.length = 0;
    pub = sub = undefined;
    subJoining = false;
    window.setTimeout(() => void start(), 1000);
  }

  async function start() {
    if (classId) {
      try {
        await locate();
      } catch (e) {
        state.error = String(e);
        followClass();
        return;
      }
    }
    connect();
  }

  Janus.init({
    debug: false,
    dependencies: Janus.useDefaultDependencies(),
    callback() {
      void start();
    },
  });

  function connect() {
    const mine = ++attempt;
    janus = new Janus({
      server,
      success() {
        janus.attach({
          plugin: 'janus.plugin.videoroom',
          success(handle) {
            pub = handle;
            state.joinedAt = performance.now();
            pub.send({ message: { request: 'join', ptype: 'publisher', room, display, pin } });
          },
          error(e) {
            state.error = String(e);
          },
          onmessage(msg, jsep) {
            if (msg.videoroom === 'joined') {
              state.feed = String(msg.id);
              status(`已进入课堂 In class · ${display}`);
              if (!sendNothing) publish();
              addPublishers(msg.publishers);
            } else if (msg.videoroom === 'event') {
              if (msg.publishers) addPublishers(msg.publishers);
              if (msg.unpublished !== undefined && msg.unpublished !== 'ok') removeFeed(msg.unpublished);
              if (msg.leaving !== undefined && msg.leaving !== 'ok') removeFeed(msg.leaving);
              if (msg.error) {
                state.error = msg.error;
                status('错误 Error: ' + msg.error);
              }
            }
            if (jsep) pub.handleRemoteJsep({ jsep });
          },
          onlocaltrack(track, on) {
            const v = document.getElementById('self-video');
            if (on && track.kind === 'video') v.srcObject = new MediaStream([track]);
          },
          webrtcState(up) {
            state.joined = up;
          },
        });
      },
      error(e) {
        state.error = String(e);
        status('无法连接服务器 Cannot reach the server');
        if (classId && mine === attempt) followClass();
      },
    });
  }

  async function inboundByFeed() {
    const result = {};
    const pc = sub && sub.webrtcStuff && sub.webrtcStuff.pc;
    if (!pc) return result;
    const midOf = new Map();
    for (const t of pc.getTransceivers()) if (t.mid) midOf.set(t.receiver.track.id, t.mid);
    const report = await pc.getStats();
    const codecOf = (r) => (r.codecId && report.get(r.codecId) ? report.get(r.codecId).mimeType : undefined);
    report.forEach((r) => {
      if (r.type !== 'inbound-rtp') return;
      const mid = r.mid || midOf.get(r.trackIdentifier);
      const feed = state.mids.get(mid);
      if (!feed) return;
      const e = (result[feed] ||= { framesDecoded: 0, audioBytes: 0, videoBytes: 0 });
      if (r.kind === 'video') {
        e.framesDecoded += r.framesDecoded || 0;
        e.videoBytes += r.bytesReceived || 0;
        // What a test or IT wants to know of the picture: its size, rate and codec as decoded here.
        e.width = r.frameWidth || 0;
        e.height = r.frameHeight || 0;
        e.fps = r.framesPerSecond || 0;
        e.videoCodec = codecOf(r);
      } else if (r.kind === 'audio') {
        e.audioBytes += r.bytesReceived || 0;
        // Played sound that was concealment (lost or late packets), against all played: the share of real audio.
        e.concealedSamples = r.concealedSamples || 0;
        e.totalSamplesReceived = r.totalSamplesReceived || 0;
        e.audioCodec = codecOf(r);
        // Why sound was concealed (issue 16, docs/media.md "Sound first"): the raw counters, differenced by the reader.
        e.audio = {};
        for (const k of AUDIO_COUNTERS) e.audio[k] = r[k] || 0;
      }
    });
    return result;
  }

  window.teacher = {
    state,
    clockLatency,
    /** The centres this teacher sees now, with what was decoded from each. */
    async remote() {
      const stats = await inboundByFeed();
      return [...tiles.entries()].map(([feed, t]) => ({
        feed,
        display: (state.publishers.get(feed) || {}).display || feed,
        framesDecoded: (stats[feed] || {}).framesDecoded || 0,
        audioBytes: (stats[feed] || {}).audioBytes || 0,
        playedFrames: t.video.getVideoPlaybackQuality().totalVideoFrames,
        width: (stats[feed] || {}).width || 0,
        height: (stats[feed] || {}).height || 0,
        fps: (stats[feed] || {}).fps || 0,
        videoCodec: (stats[feed] || {}).videoCodec,
        audioCodec: (stats[feed] || {}).audioCodec,
        concealedSamples: (stats[feed] || {}).concealedSamples || 0,
        totalSamplesReceived: (stats[feed] || {}).totalSamplesReceived || 0,
        audio: (stats[feed] || {}).audio,
      }));
    },
    leave() {
      if (pub) pub.send({ message: { request: 'leave' } });
      if (janus) janus.destroy();
    },
  };
})();
