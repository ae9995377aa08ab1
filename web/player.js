// The listener page: plays the station's live HLS playlist with hls.js and
// shows what is on air (title, artwork, progress), what aired, what comes
// next, how far behind live the listener is, and a status in a listener's
// words (playing, buffering, station off air; with health=, a station the
// monitor finds down counts as off air).
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
  const PLAYLIST_WAIT_MS = 60000;
  const SEGMENT_WAIT_MS = 30000;
  const RETRIES = 1000;
  const FATAL_RETRY_MS = 2000;
  // Keeping to air time: checked this often; an error over SEEK_OVER_S is
  // fixed by a seek, one over DEAD_BAND_S by running at most MAX_NUDGE
  // faster or slower (GAIN per second of error), which nobody hears.
  const ALIGN_MS = 250;
  const SEEK_OVER_S = 0.5;
  const DEAD_BAND_S = 0.04;
  const MAX_NUDGE = 0.02;
  const GAIN = 0.1;
  // After a seek, playback needs a moment before its position means anything.
  const SETTLE_MS = 1500;
  const Air = window.RadioAirtime;
  const TRACK_MS = 500;
  const Now = window.RadioNowPlaying;
  const RECENT_SHOWN = 5;
  const HISTORY_KEPT = 50;
  // "Go live" is offered when the listener is this far from the shared
  // position (more than the seek threshold keepToAirTime fixes by itself).
  const GO_LIVE_SLACK_S = 1;
  const VOLUME_KEY = 'radio-volume';

  const params = new URLSearchParams(location.search);
  const name = params.get('name');
  const src = params.get('src') || (name ? Now.gatewayUrl('ipns', name, location) : null);
  const healthUrl = params.get('health');

  const audio = document.getElementById('audio');
  const button = document.getElementById('play');
  const nowEl = document.getElementById('now');
  const statusEl = document.getElementById('status');
  const barEl = document.getElementById('bar');
  const timeEl = document.getElementById('time');
  const coverEl = document.getElementById('cover');
  const nextEl = document.getElementById('next');
  const recentEl = document.getElementById('recent');
  const behindEl = document.getElementById('behind');
  const goLiveEl = document.getElementById('golive');
  const volumeEl = document.getElementById('volume');
  // The station's identity is written into the page by setup.
  const stationName = document.getElementById('station-name').textContent;
  const stationArt = document.getElementById('station-art').getAttribute('src');
  const linkEl = document.getElementById('station-link');
  if (!linkEl.getAttribute('href')) linkEl.hidden = true;

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
    health: null,
    wantDelay: null,       // seconds behind air the station asks for (EXT-X-START)
    delay: null,           // seconds behind air this page plays: wantDelay, raised for old playlists
    delayRaises: [],       // [{atWall, from, to, playlistAge}]
    oldestPlaylist: null,  // the largest playlist age seen: now minus its newest fragment's end, s
    airError: null,        // programme time playing minus where it should be, s
    seeks: 0,              // corrections by seeking
    track: null,           // {title, elapsed, duration} from the EXT-X-DATERANGE playing
    shown: null,           // {title, artwork, next, recent, behind, status}: what the page shows
    loaded: false,         // a playlist arrived
    waiting: false,        // reconnecting after a fatal error, until playing again
    wanted: false,         // the listener pressed Play
    playlistAge: null,     // the newest playlist's age: now minus its newest fragment's end, s
    nudged: false,         // the playback rate is being nudged
    unaligned: false       // air time minus the delay is outside the playlist (a clock far off)
  };

  // A message that stands until playback starts (a refusal, a missing
  // player); otherwise the status follows from what the page knows.
  let sticky = null;
  function status(text, bad) {
    sticky = bad ? text : null;
    showStatus();
  }

  function showStatus() {
    const kind = Now.listenerStatus({
      health: stats.health, playlistAge: stats.playlistAge, delay: stats.wantDelay,
      target: (details() || {}).targetduration, loaded: stats.loaded, started: stats.started,
      paused: audio.paused, wanted: stats.wanted,
      // From the element itself: its events say when waiting starts, not
      // always when it ends (a seek inside the buffer).
      waiting: stats.waiting || audio.seeking || audio.readyState < audio.HAVE_FUTURE_DATA
    });
    const text = sticky && kind !== 'playing' ? sticky : Now.STATUS_TEXT[kind];
    if (statusEl.textContent !== text) statusEl.textContent = text;
    statusEl.className = kind === 'off-air' || (sticky && kind !== 'playing') ? 'off-air' : '';
    if (stats.shown) stats.shown.status = kind;
  }

  function noteSequence(kind, from, to) {
    if (from !== null && to < from) stats.sequenceDecreases.push({ kind, from, to });
  }

  // The EXTINF title of the fragment playing: kept for observers, and
  // shown while no date range covers the moment (another server's playlist).
  let extinfTitle = '';
  function onTitle(title) {
    if (!title) return;
    extinfTitle = title;
    if (stats.titles[stats.titles.length - 1] !== title) stats.titles.push(title);
  }

  let hls = null;
  let loading = false;
  let settleUntil = 0;

  function details() {
    const lv = hls && hls.levels && hls.levels[Math.max(hls.currentLevel, 0)];
    return lv && lv.details ? lv.details : null;
  }

  // Every playlist says how old it is: when the newest one still would not
  // list the place to play next, play further behind (never nearer: that
  // would replay what was heard).
  function onPlaylist(d) {
    if (stats.wantDelay === null) {
      stats.wantDelay = Air.delayOf(d);
      stats.delay = stats.wantDelay;
    }
    const now = Date.now();
    const until = Air.listedUntil(d);
    stats.loaded = true;
    if (until !== null) {
      const age = (now - until) / 1000;
      stats.playlistAge = age;
      stats.oldestPlaylist = stats.oldestPlaylist === null ? age : Math.max(stats.oldestPlaylist, age);
      const need = Air.delayFor(d, now, stats.delay, d.targetduration);
      if (need > stats.delay + 0.001) {
        stats.delayRaises.push({ atWall: now, from: stats.delay, to: need, playlistAge: age });
        stats.delay = need;
      }
    }
  }

  function startAtAirTime() {
    const d = details();
    // A playlist reaching back less than the delay (the streamer lists the
    // delay from a new station's first publish on, so an older streamer or
    // another server): start at its beginning and stay that near.
    const reach = d ? Air.reachOf(d, Date.now(), 0) : NaN;
    if (reach < stats.delay) stats.delay = reach;
    const air = Date.now() - stats.delay * 1000;
    // Outside the playlist (a clock far off): where EXT-X-START says instead.
    const pos = d && Air.covers(d, air) ? Air.positionOf(d, air) : -1;
    loading = true;
    hls.startLoad(pos);
  }

  function keepToAirTime() {
    if (!hls || !stats.started || audio.paused || audio.seeking || performance.now() < settleUntil) return;
    // While starved (a slow gateway), seeking would only restart loading:
    // correct once data flows again, in one step.
    if (audio.readyState < audio.HAVE_FUTURE_DATA) return;
    const playing = hls.playingDate;
    if (!playing || stats.delay === null) return;
    const err = Air.errorOf(playing.getTime(), Date.now(), stats.delay);
    stats.airError = err;
    const d = details();
    if (d && !Air.covers(d, Date.now() - stats.delay * 1000)) {
      stats.unaligned = true;
      if (audio.playbackRate !== 1) audio.playbackRate = 1;
      return;
    }
    stats.unaligned = false;
    const c = Air.correction(err, SEEK_OVER_S, DEAD_BAND_S, MAX_NUDGE, GAIN);
    if (c.seek) {
      stats.seeks++;
      settleUntil = performance.now() + SETTLE_MS;
      audio.playbackRate = 1;
      audio.currentTime = audio.currentTime - err;
      return;
    }
    stats.nudged = c.rate !== 1;
    if (audio.playbackRate !== c.rate) audio.playbackRate = c.rate;
  }

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
        stats.loaded = true;
        showStatus();
        return;
      }
      status('This browser cannot play HLS (no Media Source Extensions).', true);
      return;
    }
    hls = new window.Hls({
      // The page picks the start itself (air time minus the delay), once it
      // has a playlist and the listener pressed Play.
      autoStartLoad: false,
      // No catching up with the playlist's end: the place to be is set by
      // air time, and a stale playlist's end is not the present.
      maxLiveSyncPlaybackRate: 1,
      lowLatencyMode: false,
      // Buffer what the delay lists ahead, so a slow gateway's segment
      // answers cost buffer, not playback.
      maxBufferLength: 60,
      maxMaxBufferLength: 120,
      // A gateway resolving the name answers the playlist after tens of
      // seconds (DHT lookups take up to about 30 s): that is a slow answer,
      // not an error. Retries go on for as long as a listener would wait.
      playlistLoadPolicy: {
        default: {
          maxTimeToFirstByteMs: PLAYLIST_WAIT_MS, maxLoadTimeMs: PLAYLIST_WAIT_MS + 30000,
          timeoutRetry: { maxNumRetry: RETRIES, retryDelayMs: 0, maxRetryDelayMs: 0 },
          errorRetry: { maxNumRetry: RETRIES, retryDelayMs: 1000, maxRetryDelayMs: 8000 }
        }
      },
      fragLoadPolicy: {
        default: {
          maxTimeToFirstByteMs: SEGMENT_WAIT_MS, maxLoadTimeMs: SEGMENT_WAIT_MS + 30000,
          timeoutRetry: { maxNumRetry: RETRIES, retryDelayMs: 0, maxRetryDelayMs: 0 },
          errorRetry: { maxNumRetry: RETRIES, retryDelayMs: 1000, maxRetryDelayMs: 8000 }
        }
      }
    });
    const E = window.Hls.Events;
    hls.on(E.LEVEL_LOADED, (_, data) => {
      onPlaylist(data.details);
      if (button.disabled) {
        button.disabled = false;
        showStatus();
      }
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
        stats.waiting = true;
        showStatus();
        // A listener never has to reload the page: network trouble restarts
        // loading, a media error rebuilds the decoder, where hls.js says to.
        if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
        else setTimeout(() => (hls.levels && hls.levels.length ? hls.startLoad(-1) : hls.loadSource(src)), FATAL_RETRY_MS);
      } else {
        stats.errors.push(e);
        if (stats.errors.length > KEEP_ERRORS) stats.errors.shift();
      }
    });
    hls.loadSource(src);
    hls.attachMedia(audio);
  }

  function play() {
    stats.wanted = true;
    if (hls && !loading) startAtAirTime();
    const p = audio.play();
    if (p && p.catch) p.catch((err) => status('The browser refused to play: ' + err.message, true));
  }

  function toggle() {
    if (button.disabled) return;
    if (audio.paused) play(); else audio.pause();
  }

  // Back to the shared position, air time minus the delay: from a pause by
  // playing (keepToAirTime then seeks there), while playing by a seek.
  function goLive() {
    if (audio.paused) {
      play();
      return;
    }
    const playing = hls && hls.playingDate;
    if (!playing || stats.delay === null) return;
    const err = Air.errorOf(playing.getTime(), Date.now(), stats.delay);
    stats.seeks++;
    settleUntil = performance.now() + SETTLE_MS;
    audio.playbackRate = 1;
    audio.currentTime = audio.currentTime - err;
  }

  button.addEventListener('click', toggle);
  goLiveEl.addEventListener('click', goLive);

  // Space and k play and pause, as on video sites; not while typing, and a
  // focused button already answers space itself.
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = e.target && e.target.tagName;
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') return;
    if (e.key === 'k' || e.key === 'K' || (e.key === ' ' && tag !== 'BUTTON')) {
      e.preventDefault();
      toggle();
    }
  });

  try {
    const v = parseFloat(localStorage.getItem(VOLUME_KEY));
    if (v >= 0 && v <= 1) volumeEl.value = String(v);
  } catch (e) { /* storage off: the default volume */ }
  audio.volume = Number(volumeEl.value);
  volumeEl.addEventListener('input', () => {
    audio.volume = Number(volumeEl.value);
    try { localStorage.setItem(VOLUME_KEY, volumeEl.value); } catch (e) { /* not kept */ }
  });

  if ('mediaSession' in navigator) {
    navigator.mediaSession.setActionHandler('play', () => { if (audio.paused) play(); });
    navigator.mediaSession.setActionHandler('pause', () => audio.pause());
  }

  audio.addEventListener('playing', () => {
    button.textContent = 'Pause';
    sticky = null;
    stats.waiting = false;
    if (!stats.started) {
      stats.started = true;
      stats.startWall = performance.now();
      stats.startPos = audio.currentTime;
      stats.lastAdvanceWall = stats.startWall;
      stats.lastPos = audio.currentTime;
    }
    showTrack();
  });
  audio.addEventListener('pause', () => { button.textContent = 'Play'; showStatus(); });
  audio.addEventListener('waiting', showStatus);

  // Playback time against wall time, sampled: a stall is any stretch in
  // which the position stood still while the listener wanted to hear it.
  setInterval(() => {
    if (!stats.started || audio.paused) return;
    const now = performance.now();
    const pos = audio.currentTime;
    if (pos > stats.lastPos) {
      stats.waiting = false; // sound again after a fatal error, with or without a "playing" event
      const idle = now - stats.lastAdvanceWall;
      if (idle >= STALL_MIN_MS) stats.stalls.push({ atWall: stats.lastAdvanceWall, ms: idle });
      stats.lastAdvanceWall = now;
    }
    stats.lastPos = pos;
    stats.lastWall = now;
  }, SAMPLE_MS);
  setInterval(keepToAirTime, ALIGN_MS);

  function clock(s) {
    const m = Math.floor(s / 60);
    const r = Math.floor(s % 60);
    return m + ':' + (r < 10 ? '0' : '') + r;
  }

  let history = [];

  function absolute(url) {
    try { return new URL(url, location.href).href; } catch (e) { return url; }
  }

  function artOf(r) {
    return r ? Now.artworkUrl(r.artwork, location, stationArt) : stationArt;
  }

  function setImg(img, url) {
    if (img.getAttribute('src') !== url) img.setAttribute('src', url);
  }

  function trackItem(el, r, when) {
    const img = document.createElement('img');
    img.className = 'thumb';
    img.alt = '';
    img.src = artOf(r);
    const t = document.createElement('span');
    t.className = 'title';
    t.textContent = r.title;
    el.append(img, t);
    if (when) {
      const w = document.createElement('span');
      w.className = 'when';
      w.textContent = when;
      el.append(w);
    }
  }

  function hhmm(ms) {
    const d = new Date(ms);
    return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
  }

  function showOnAir(r, title) {
    const shown = stats.shown || {};
    const art = artOf(r);
    if (shown.title === title && shown.artwork === art) return;
    nowEl.textContent = title;
    setImg(coverEl, art);
    document.title = title ? title + ' – ' + stationName : stationName;
    if ('mediaSession' in navigator && window.MediaMetadata && title) {
      const t = Now.splitTitle(title);
      navigator.mediaSession.metadata = new window.MediaMetadata({
        title: t.title, artist: t.artist, album: stationName, artwork: [{ src: absolute(art) }]
      });
    }
    stats.shown = Object.assign(shown, { title, artwork: art });
  }

  function showNext(r) {
    const key = r ? r.id + '|' + r.title : '';
    if (stats.shown && stats.shown.nextKey === key) return;
    nextEl.replaceChildren();
    if (r) trackItem(nextEl, r, hhmm(r.start));
    else nextEl.innerHTML = '<span class="empty">Not known yet</span>';
    stats.shown = Object.assign(stats.shown || {}, { nextKey: key, next: r ? r.title : null });
  }

  function showRecent(list) {
    const key = list.map((r) => r.id).join(',');
    if (stats.shown && stats.shown.recentKey === key) return;
    recentEl.replaceChildren();
    for (const r of list) {
      const li = document.createElement('li');
      trackItem(li, r, hhmm(r.start));
      recentEl.append(li);
    }
    if (!list.length) recentEl.innerHTML = '<li class="empty">Nothing yet</li>';
    stats.shown = Object.assign(stats.shown || {}, { recentKey: key, recent: list.map((r) => r.title) });
  }

  function showBehind(playingMs) {
    const now = Date.now();
    const behind = Now.behindLive(playingMs, now);
    const text = behind === null ? '' : behind + ' seconds behind live';
    if (behindEl.textContent !== text) behindEl.textContent = text;
    const away = stats.started && stats.delay !== null &&
      (audio.paused || Now.awayFromLive(playingMs, now, stats.delay, GO_LIVE_SLACK_S));
    goLiveEl.disabled = !away;
    stats.shown = Object.assign(stats.shown || {}, { behind });
  }

  // The track playing and how far into it, from the playlist's date ranges:
  // the whole track's length is known, not only the segments listed. Before
  // Play, "playing" is where Play would start: air time minus the delay.
  function showTrack() {
    showStatus();
    const d = details();
    const date = hls && hls.playingDate;
    const t = date ? date.getTime() : (stats.delay !== null ? Date.now() - stats.delay * 1000 : null);
    if (!d || t === null) return;
    const ranges = Now.rangesOf(d.dateRanges);
    history = Now.remember(history, ranges, HISTORY_KEPT);
    const found = Now.onAir(ranges, t) || Now.onAir(history, t);
    showOnAir(found, found ? found.title : extinfTitle);
    showNext(Now.nextUp(ranges, t));
    showRecent(Now.recentlyPlayed(history, t, RECENT_SHOWN));
    if (stats.started) showBehind(date ? t : null);
    if (!found) return;
    const elapsed = (t - found.start) / 1000;
    stats.track = { title: found.title, elapsed, duration: found.duration };
    barEl.max = found.duration;
    barEl.value = elapsed;
    timeEl.textContent = clock(elapsed) + ' / ' + clock(found.duration);
    if ('mediaSession' in navigator && navigator.mediaSession.setPositionState && stats.started) {
      try {
        navigator.mediaSession.setPositionState({ duration: found.duration, position: Math.min(elapsed, found.duration),
                                                  playbackRate: 1 });
      } catch (e) { /* a browser refusing the numbers shows no position */ }
    }
  }
  setInterval(showTrack, TRACK_MS);

  async function pollHealth() {
    try {
      const r = await fetch(healthUrl, { cache: 'no-store' });
      if (!r.ok) throw new Error('HTTP ' + r.status);
      const h = await r.json();
      stats.health = h.status;
    } catch (err) {
      // An unreachable monitor says nothing about the station.
      stats.health = null;
    }
    showStatus();
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
        nowPlaying: 'Now playing: ' + nowEl.textContent,
        shown: stats.shown,
        health: stats.health,
        wantDelay: stats.wantDelay,
        delay: stats.delay,
        delayRaises: stats.delayRaises,
        oldestPlaylist: stats.oldestPlaylist,
        airError: stats.airError,
        seeks: stats.seeks,
        unaligned: stats.unaligned,
        track: stats.track,
        rate: audio.playbackRate,
        hlsVersion: stats.hlsVersion
      };
    }
  };

  start();
}());
