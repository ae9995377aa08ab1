// The listener page's air-time arithmetic (web/airtime.js), on playlists
// shaped like the streamer's: run with `node --test`.
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const Air = require(path.join(__dirname, '..', '..', 'web', 'airtime.js'))

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0) // any instant: nothing here reads the clock
// n fragments of dur seconds, the first on air at air0 (ms), media time from 0.
function playlist (n, dur, air0, startTimeOffset = null) {
  const fragments = []
  for (let i = 0; i < n; i++) {
    fragments.push({ start: i * dur, duration: dur, programDateTime: air0 + i * dur * 1000 })
  }
  return { fragments, targetduration: Math.ceil(dur), startTimeOffset }
}

test('the delay is the negative EXT-X-START offset, else three target durations', () => {
  assert.equal(Air.delayOf(playlist(10, 2, T0, -45)), 45)
  assert.equal(Air.delayOf(playlist(10, 2, T0, null)), 6)
  assert.equal(Air.delayOf(playlist(10, 2, T0, 5)), 6) // a positive offset says nothing about air time
})

test('an air time maps to the media position of its fragment', () => {
  const d = playlist(10, 2, T0)
  assert.equal(Air.positionOf(d, T0 + 5500), 5.5)
  assert.equal(Air.positionOf(d, T0), 0)
  assert.equal(Air.positionOf(d, T0 + 2000), 2)
  // Outside the playlist: clamped to what it lists.
  assert.equal(Air.positionOf(d, T0 - 60000), 0)
  assert.equal(Air.positionOf(d, T0 + 600000), 20)
  // Fragments of unequal length (a track's tail) keep their own dates.
  d.fragments[3] = { start: 6, duration: 0.5, programDateTime: T0 + 6000 }
  for (let i = 4; i < 10; i++) {
    d.fragments[i].start = 6.5 + (i - 4) * 2
    d.fragments[i].programDateTime = T0 + 6500 + (i - 4) * 2000
  }
  assert.equal(Air.positionOf(d, T0 + 6700), 6.7)
  assert.equal(Air.positionOf(d, T0 + 6250), 6.25)
  assert.equal(Air.positionOf({ fragments: [{ start: 0, duration: 2 }], targetduration: 2 }, T0), null)
})

test('a fresh playlist keeps the wanted delay; an old one raises it to keep a margin listed', () => {
  const d = playlist(50, 2, T0, -30) // lists air time T0 .. T0+100 s
  assert.equal(Air.listedUntil(d), T0 + 100000)
  // Now = the newest fragment's start: fresh.
  assert.equal(Air.delayFor(d, T0 + 98000, 30, 2), 30)
  // The same playlist read 40 s later ends 38 s in the past: 30 s behind air
  // would run out, so 38 + one target duration.
  assert.equal(Air.delayFor(d, T0 + 138000, 30, 2), 40)
  // Never past the playlist's oldest fragment (minus the margin).
  assert.equal(Air.delayFor(d, T0 + 400000, 30, 2), 98)
})

test('the error says how far ahead of air minus the delay playback is', () => {
  assert.equal(Air.errorOf(T0 - 30000, T0, 30), 0)
  assert.equal(Air.errorOf(T0 - 29000, T0, 30), 1)
  assert.equal(Air.errorOf(T0 - 31500, T0, 30), -1.5)
})

test('large errors are seeks, small ones a bounded rate nudge, tiny ones nothing', () => {
  assert.deepEqual(Air.correction(0.8, 0.5, 0.04, 0.02, 0.1), { seek: true, rate: 1 })
  assert.deepEqual(Air.correction(-0.8, 0.5, 0.04, 0.02, 0.1), { seek: true, rate: 1 })
  assert.deepEqual(Air.correction(0.03, 0.5, 0.04, 0.02, 0.1), { seek: false, rate: 1 })
  const ahead = Air.correction(0.1, 0.5, 0.04, 0.02, 0.1)
  assert.equal(ahead.seek, false)
  assert.ok(Math.abs(ahead.rate - 0.99) < 1e-9, `ahead: rate ${ahead.rate}`)
  assert.equal(Air.correction(-0.4, 0.5, 0.04, 0.02, 0.1).rate, 1.02)
})

test('a playlist reaches back as far as its oldest fragment aired, less the margin', () => {
  const d = playlist(20, 2, T0) // a station on air for 40 s
  assert.equal(Air.reachOf(d, T0 + 40000, 2), 38)
  assert.equal(Air.reachOf(d, T0 + 1000, 2), 0)
  assert.ok(Number.isNaN(Air.reachOf({ fragments: [{ start: 0, duration: 2 }], targetduration: 2 }, T0, 2)))
})

test('a moment outside the playlist is not covered: nothing to chase', () => {
  const d = playlist(10, 2, T0)
  assert.equal(Air.covers(d, T0), true)
  assert.equal(Air.covers(d, T0 + 20000), true)
  assert.equal(Air.covers(d, T0 - 1), false)
  assert.equal(Air.covers(d, T0 + 20001), false)
  assert.equal(Air.covers({ fragments: [{ start: 0, duration: 2 }], targetduration: 2 }, T0), false)
})
