// What the page shows about the programme: the track on air, the ones that
// aired, the one coming next, how far behind live the listener is, and a
// status a listener understands. The streamer writes one EXT-X-DATERANGE
// per track in the window (CLASS org.ipfs-radio.track) and one for the
// next track (CLASS org.ipfs-radio.next, START-DATE in the future).
//
// Pure functions of plain data (ranges as {id, cls, start (ms), duration
// (s), title, artwork}, times in ms since the epoch, a location's parts), so
// that they are tested without a browser (tests/web/nowplaying.test.cjs).
'use strict';

(function (root) {
  const TRACK_CLASS = 'org.ipfs-radio.track'
  const NEXT_CLASS = 'org.ipfs-radio.next'
  // An artwork reference is exactly this, or it is not used: nothing from
  // a playlist becomes an arbitrary URL in the page.
  const IPFS_REF = /^\/ipfs\/([A-Za-z0-9]{16,128})$/
  const IPNS_NAME = /^[A-Za-z0-9._-]{1,253}$/

  // hls.js level details' dateRanges ({id: DateRange}) as plain ranges of
  // the streamer's two classes, by start.
  function rangesOf (dateRanges) {
    const out = []
    for (const id of Object.keys(dateRanges || {})) {
      const r = dateRanges[id]
      if (!r || (r.class !== TRACK_CLASS && r.class !== NEXT_CLASS)) continue
      const start = r.startDate instanceof Date ? r.startDate.getTime() : NaN
      if (!Number.isFinite(start) || !(r.duration > 0)) continue
      const attr = r.attr || {}
      out.push({ id, cls: r.class, start, duration: r.duration, title: attr['X-TITLE'] || '',
                 artwork: attr['X-ARTWORK'] || null })
    }
    return out.sort((a, b) => a.start - b.start)
  }

  function endOf (r) {
    return r.start + r.duration * 1000
  }

  // Every track range seen so far, by ID, with this playlist's added: a
  // playlist only lists the last few minutes, the page remembers longer.
  // Announcements (next class) are left out: only what aired is history.
  function remember (history, ranges, keep) {
    const byId = new Map(history.map((r) => [r.id, r]))
    for (const r of ranges) if (r.cls === TRACK_CLASS) byId.set(r.id, r)
    const all = [...byId.values()].sort((a, b) => a.start - b.start)
    return all.slice(Math.max(0, all.length - keep))
  }

  // The track playing at programme time t, or null.
  function onAir (ranges, t) {
    let found = null
    for (const r of ranges) {
      if (r.cls === TRACK_CLASS && t >= r.start && t < endOf(r)) found = r
    }
    return found
  }

  // Tracks that finished before programme time t, newest first, at most limit.
  function recentlyPlayed (history, t, limit) {
    return history.filter((r) => r.cls === TRACK_CLASS && endOf(r) <= t)
      .sort((a, b) => b.start - a.start)
      .slice(0, limit)
  }

  // The first track starting after programme time t. A listener behind air
  // may find it already on air in the playlist (track class); otherwise the
  // streamer's announcement of it (next class). The track's own tag wins
  // over an announcement of the same start.
  function nextUp (ranges, t) {
    let best = null
    for (const r of ranges) {
      if (r.start <= t) continue
      if (!best || r.start < best.start || (r.start === best.start && r.cls === TRACK_CLASS)) best = r
    }
    return best
  }

  // Whole seconds between air (the device's clock) and what is heard.
  function behindLive (playingMs, nowMs) {
    if (typeof playingMs !== 'number' || !Number.isFinite(playingMs)) return null
    return Math.max(0, Math.round((nowMs - playingMs) / 1000))
  }

  // Whether the listener is away from the shared position (air time minus
  // the station's delay) by more than slack seconds: then "go live" matters.
  function awayFromLive (playingMs, nowMs, delay, slack) {
    if (typeof playingMs !== 'number' || !Number.isFinite(playingMs)) return false
    return Math.abs((nowMs - playingMs) / 1000 - delay) > slack
  }

  // "Artist - Title" as the streamer writes it, split for the Media Session.
  function splitTitle (s) {
    const i = (s || '').indexOf(' - ')
    if (i <= 0) return { artist: '', title: s || '' }
    return { artist: s.slice(0, i), title: s.slice(i + 3) }
  }

  // Where /ipfs/<cid> or /ipns/<name> is on the gateway serving the page
  // ({protocol, host, hostname, pathname} of location): the same path on a
  // path gateway; on a subdomain gateway (<cid>.ipfs.example) the
  // subdomain of the same gateway. Null for anything else.
  function gatewayUrl (kind, id, loc) {
    if ((kind !== 'ipfs' && kind !== 'ipns') || !IPNS_NAME.test(id || '')) return null
    if (/^\/(ipfs|ipns)\//.test(loc.pathname || '')) return '/' + kind + '/' + id
    const m = /^[^.]+\.(?:ipfs|ipns)\.(.+)$/.exec(loc.host || '')
    if (m) return loc.protocol + '//' + id.toLowerCase() + '.' + kind + '.' + m[1] + '/'
    return '/' + kind + '/' + id
  }

  // A track's artwork (X-ARTWORK, "/ipfs/<cid>") as a URL for this page, or
  // the fallback (the station's artwork) when it has none or a bad one.
  function artworkUrl (ref, loc, fallback) {
    const m = IPFS_REF.exec(ref || '')
    return (m && gatewayUrl('ipfs', m[1], loc)) || fallback
  }

  // What the listener is told, from what the page knows: the station is
  // off air when its newest playlist is older than the listener's delay
  // allows (more than a delay plus two target durations: nothing new to
  // play) or the health monitor says down.
  function listenerStatus (s) {
    if (s.health === 'down') return 'off-air'
    if (typeof s.playlistAge === 'number' && s.delay !== null &&
        s.playlistAge > s.delay + 2 * (s.target || 0)) return 'off-air'
    if (!s.loaded) return 'connecting'
    // Play pressed, nothing heard yet: loading, as a listener sees it.
    if (!s.started) return s.wanted ? 'buffering' : 'ready'
    if (s.paused) return 'paused'
    if (s.waiting) return 'buffering'
    return 'playing'
  }

  const STATUS_TEXT = {
    'off-air': 'Station off air',
    connecting: 'Tuning in…',
    ready: 'Ready',
    paused: 'Paused',
    buffering: 'Buffering…',
    playing: 'Playing'
  }

  const api = { TRACK_CLASS, NEXT_CLASS, STATUS_TEXT, rangesOf, remember, onAir, recentlyPlayed, nextUp,
                behindLive, awayFromLive, splitTitle, gatewayUrl, artworkUrl, listenerStatus }
  if (typeof module === 'object' && module.exports) module.exports = api
  else root.RadioNowPlaying = api
}(typeof window !== 'undefined' ? window : globalThis))
