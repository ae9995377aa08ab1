// Playing by air time. Every segment carries the moment it is on air
// (EXT-X-PROGRAM-DATE-TIME), so a listener can play "air time minus D"
// whatever gateway answered and however old its playlist is. With one D
// for the whole station (the streamer publishes it as
// EXT-X-START:TIME-OFFSET=-D), listeners on any gateway hear the same moment,
// and a playlist up to about D old still lists what they play next.
//
// Pure functions of hls.js level details (fragments with start, duration
// and programDateTime in ms) and of times in ms since the epoch, so that
// they are tested without a browser (tests/js/airtime.test.mjs).
'use strict';

(function (root) {
  // The delay a playlist asks for: the negative EXT-X-START TIME-OFFSET.
  // Without one, three target durations, where players start by default.
  function delayOf (details) {
    const off = details.startTimeOffset
    if (typeof off === 'number' && Number.isFinite(off) && off < 0) return -off
    return 3 * details.targetduration
  }

  function dated (details) {
    return details.fragments.filter((f) => typeof f.programDateTime === 'number' && Number.isFinite(f.programDateTime))
  }

  // The media position (hls.js timeline, seconds) of air time airMs, clamped
  // into what the playlist lists; null when no fragment carries a date.
  function positionOf (details, airMs) {
    const fr = dated(details)
    if (!fr.length) return null
    const first = fr[0]
    const last = fr[fr.length - 1]
    if (airMs <= first.programDateTime) return first.start
    for (const f of fr) {
      if (airMs < f.programDateTime + f.duration * 1000) return f.start + (airMs - f.programDateTime) / 1000
    }
    return last.start + last.duration
  }

  // Air time (ms) at which the newest listed fragment ends.
  function listedUntil (details) {
    const fr = dated(details)
    if (!fr.length) return null
    const last = fr[fr.length - 1]
    return last.programDateTime + last.duration * 1000
  }

  // The delay needed so that a listener still has margin seconds listed
  // ahead when this playlist is the newest it has: at least want, more when
  // the playlist is older than want allows, never more than the playlist
  // holds (less margin, so the listener does not start before its start).
  function delayFor (details, nowMs, want, margin) {
    const until = listedUntil(details)
    if (until === null) return want
    const need = (nowMs - until) / 1000 + margin
    const fr = dated(details)
    const span = (until - fr[0].programDateTime) / 1000
    return Math.min(Math.max(want, need), Math.max(0, span - margin))
  }

  // Whether the playlist lists air time airMs. A device clock (or a
  // station's) far off makes the wanted moment fall outside every window:
  // then nothing is to be chased by seeking.
  function covers (details, airMs) {
    const fr = dated(details)
    if (!fr.length) return false
    return airMs >= fr[0].programDateTime && airMs <= listedUntil(details)
  }

  // The largest delay this playlist can serve: how long ago its oldest
  // fragment aired, less margin seconds (NaN without dates).
  function reachOf (details, nowMs, margin) {
    const fr = dated(details)
    if (!fr.length) return NaN
    return Math.max(0, (nowMs - fr[0].programDateTime) / 1000 - margin)
  }

  // How far playback is ahead of where it should be (seconds, negative
  // when behind), given the programme time playing now.
  function errorOf (playingMs, nowMs, delay) {
    return (playingMs - (nowMs - delay * 1000)) / 1000
  }

  // What to do about an error: seek (to the exact place) when it is large,
  // else nudge the playback rate by at most maxNudge in proportion, so small
  // drift is absorbed without a seek's audible jump.
  function correction (err, seekOver, deadBand, maxNudge, gain) {
    if (Math.abs(err) > seekOver) return { seek: true, rate: 1 }
    if (Math.abs(err) <= deadBand) return { seek: false, rate: 1 }
    const nudge = Math.min(maxNudge, Math.abs(err) * gain)
    return { seek: false, rate: err > 0 ? 1 - nudge : 1 + nudge }
  }

  const api = { delayOf, positionOf, listedUntil, covers, delayFor, reachOf, errorOf, correction }
  if (typeof module === 'object' && module.exports) module.exports = api
  else root.RadioAirtime = api
}(typeof window !== 'undefined' ? window : globalThis))
