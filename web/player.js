// The listener page: plays the station's live HLS playlist with hls.js,
// shows the title on air and, when given, the station's health.
//
//   index.html?name=<ipns-name>        the playlist at /ipns/<name> on this gateway
//   index.html?src=<playlist-url>      any playlist URL instead
//   &health=<url>                      the health monitor's /health JSON (it sends CORS)
//
// What the page saw is kept in window.radioListener, so tests (and curious
// listeners, from the console) can check how playback went.
'use strict';

(function () {
  const HEALTH_POLL_MS = 10000;
  const SAMPLE_MS = 100;
  // A pause in playback shorter than this is the sampler's own jitter.
  const STALL_MIN_MS = 300;
  const KEEP_ERRORS = 50;

  const params = new URLSearchParams(location.search);
  const name = params.get('name');
  const src = params.get('src') || (name ? '/ipns/' + encodeURIComponent(name) : null);
  const healthUrl = params.get('health');

  const audio = document.getElementById('audio');
  const button = document.getElementById('play');
  const nowEl = document.getElementById('now');
  const statusEl = document.getElementById('status');
  const healthEl = document.getElementById('health');
  document.getElementById('station').textContent = src ? src : '';

  const stats = {
    src,
    hlsVersion: window.Hls ? window.Hls.version : null,
    started: false,
    startWall: null, startPos: null,
    lastWall: null, lastPos: null,
    lastAdvanceWall: null,
    stalls: [],            // [{atWall, ms}] pauses while playback was wanted
    fatal: [],             // fatal hls.js errors
    errors: [],            // every other hls.js error, newest KEEP_ERRORS
    playlistSequences: [], // EXT-X-MEDIA-SEQUENCE of each playlist hls.js loaded
    sequenceDecreases: [], // [{from, to}] of that, and of the fragment played
    fragments: 0, lastSn: null, lastCc: null, discontinuities: 0,
    titles: [],            // titles on air, in order, without repeats
    health: null
  };

  function status(text, bad) {
    statusEl.textContent = text;
    statusEl.className = bad ? 'bad' : '';
  }

  function noteSequence(kind, from, to) {
    if (from !== null && to < from) stats.sequenceDecreases.push({ kind, from, to });
  }

  function onTitle(title) {
    if (!title) return;
    nowEl.textContent = 'Now playing: ' + title;
    document.title = title + ' – IPFS radio';
    if (stats.titles[stats.titles.length - 1] !== title) stats.titles.push(title);
  }

  let hls = null;

  function start() {
    if (!src) {
      status('No station given: open this page with ?name=<IPNS name> (or ?src=<playlist URL>).', true);
      return;
    }
    if (!window.Hls) {
      status('hls.js is missing from this page.', true);
      return;
    }
    if (!window.Hls.isSupported()) {
      if (audio.canPlayType('application/vnd.apple.mpegurl')) {
        audio.src = src; // Safari plays HLS itself
        button.disabled = false;
        status('Ready.');
        return;
      }
      status('This browser cannot play HLS (no Media Source Extensions).', true);
      return;
    }
    hls = new window.Hls({
      // Three segments behind the newest: every listener sits at the same
      // distance from the live edge, so they hear the same thing together.
      liveSyncDurationCount: 3,
      liveMaxLatencyDurationCount: 10,
      maxLiveSyncPlaybackRate: 1,
      lowLatencyMode: false,
      // A gateway that is slow to resolve the name, or a streamer that
      // restarts, must cost retries, not the listener.
      playlistLoadPolicy: {
        default: {
          maxTimeToFirstByteMs: 10000, maxLoadTimeMs: 20000,
          timeoutRetry: { maxNumRetry: 6, retryDelayMs: 0, maxRetryDelayMs: 0 },
          errorRetry: { maxNumRetry: 8, retryDelayMs: 1000, maxRetryDelayMs: 4000 }
        }
      },
      fragLoadPolicy: {
        default: {
          maxTimeToFirstByteMs: 10000, maxLoadTimeMs: 30000,
          timeoutRetry: { maxNumRetry: 4, retryDelayMs: 0, maxRetryDelayMs: 0 },
          errorRetry: { maxNumRetry: 6, retryDelayMs: 1000, maxRetryDelayMs: 4000 }
        }
      }
    });
    const E = window.Hls.Events;
    hls.on(E.MANIFEST_PARSED, () => {
      button.disabled = false;
      status('Ready.');
    });
    hls.on(E.LEVEL_UPDATED, (_, data) => {
      const seq = data.details.startSN;
      const prev = stats.playlistSequences.length
        ? stats.playlistSequences[stats.playlistSequences.length - 1] : null;
      noteSequence('playlist', prev, seq);
      stats.playlistSequences.push(seq);
    });
    hls.on(E.FRAG_CHANGED, (_, data) => {
      const f = data.frag;
      noteSequence('fragment', stats.lastSn, f.sn);
      if (stats.lastCc !== null && f.cc !== stats.lastCc) stats.discontinuities++;
      stats.lastSn = f.sn;
      stats.lastCc = f.cc;
      stats.fragments++;
      onTitle(f.title);
    });
    hls.on(E.ERROR, (_, data) => {
      const e = { type: data.type, details: data.details, fatal: !!data.fatal,
                  atWall: performance.now(),
                  url: data.frag ? data.frag.url : (data.url || null),
                  reason: data.reason || (data.error ? String(data.error) : null) };
      if (data.fatal) {
        stats.fatal.push(e);
        status('Playback failed: ' + data.details, true);
      } else {
        stats.errors.push(e);
        if (stats.errors.length > KEEP_ERRORS) stats.errors.shift();
      }
    });
    hls.loadSource(src);
    hls.attachMedia(audio);
  }

  function play() {
    const p = audio.play();
    if (p && p.catch) p.catch((err) => status('The browser refused to play: ' + err.message, true));
  }

  button.addEventListener('click', () => {
    if (audio.paused) play(); else audio.pause();
  });
  audio.addEventListener('playing', () => {
    button.textContent = 'Pause';
    status('On air.');
    if (!stats.started) {
      stats.started = true;
      stats.startWall = performance.now();
      stats.startPos = audio.currentTime;
      stats.lastAdvanceWall = stats.startWall;
      stats.lastPos = audio.currentTime;
    }
  });
  audio.addEventListener('pause', () => { button.textContent = 'Play'; status('Paused.'); });
  audio.addEventListener('waiting', () => { if (stats.started) status('Buffering…'); });

  // Playback time against wall time, sampled: a stall is any stretch in
  // which the position stood still while the listener wanted to hear it.
  setInterval(() => {
    if (!stats.started || audio.paused) return;
    const now = performance.now();
    const pos = audio.currentTime;
    if (pos > stats.lastPos) {
      const idle = now - stats.lastAdvanceWall;
      if (idle >= STALL_MIN_MS) stats.stalls.push({ atWall: stats.lastAdvanceWall, ms: idle });
      stats.lastAdvanceWall = now;
    }
    stats.lastPos = pos;
    stats.lastWall = now;
  }, SAMPLE_MS);

  async function pollHealth() {
    try {
      const r = await fetch(healthUrl, { cache: 'no-store' });
      if (!r.ok) throw new Error('HTTP ' + r.status);
      const h = await r.json();
      stats.health = h.status;
      const why = Array.isArray(h.reasons) && h.reasons.length ? ': ' + h.reasons.join('; ') : '';
      healthEl.textContent = 'Station health: ' + h.status + why;
      healthEl.className = h.status === 'ok' ? '' : 'bad';
    } catch (err) {
      stats.health = null;
      healthEl.textContent = 'Station health: not reachable (' + err.message + ')';
      healthEl.className = 'bad';
    }
  }
  if (healthUrl) {
    pollHealth();
    setInterval(pollHealth, HEALTH_POLL_MS);
  }

  window.radioListener = {
    stats,
    play,
    // hls.js itself, for observers that judge playback without this page's
    // own bookkeeping (the browser test does).
    get hls () { return hls; },
    // One consistent reading: where playback is, in media time and in
    // programme time (EXT-X-PROGRAM-DATE-TIME), and the longest stall.
    snapshot() {
      const now = performance.now();
      const ongoing = stats.started && !audio.paused ? now - stats.lastAdvanceWall : 0;
      const longest = stats.stalls.reduce((m, s) => Math.max(m, s.ms), 0);
      const date = hls && hls.playingDate ? hls.playingDate.getTime() : null;
      return {
        wallEpochMs: Date.now(),
        perfMs: now,
        position: audio.currentTime,
        paused: audio.paused,
        programTimeMs: date,
        playedSeconds: stats.started ? audio.currentTime - stats.startPos : 0,
        listenedSeconds: stats.started ? (now - stats.startWall) / 1000 : 0,
        longestStallMs: Math.max(longest, ongoing >= STALL_MIN_MS ? ongoing : 0),
        stalls: stats.stalls.length,
        fatal: stats.fatal,
        errors: stats.errors.length,
        lastErrors: stats.errors.slice(-5),
        sequenceDecreases: stats.sequenceDecreases,
        firstSequence: stats.playlistSequences[0],
        lastSequence: stats.playlistSequences[stats.playlistSequences.length - 1],
        playlists: stats.playlistSequences.length,
        fragments: stats.fragments,
        lastSn: stats.lastSn,
        discontinuities: stats.discontinuities,
        titles: stats.titles,
        nowPlaying: nowEl.textContent,
        health: stats.health,
        hlsVersion: stats.hlsVersion
      };
    }
  };

  start();
}());
