// What the listener page shows about the programme (web/nowplaying.js),
// on date ranges shaped like the streamer's: run with `node --test`.
'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const N = require(path.join(__dirname, '..', '..', 'web', 'nowplaying.js'))

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0) // any instant: nothing here reads the clock
const track = (seq, startS, dur, title, artwork) =>
  ({ id: 'track-' + seq, cls: N.TRACK_CLASS, start: T0 + startS * 1000, duration: dur, title, artwork: artwork || null })
const next = (seq, startS, dur, title) =>
  ({ id: 'next-' + seq, cls: N.NEXT_CLASS, start: T0 + startS * 1000, duration: dur, title, artwork: null })

// hls.js's DateRange objects, as the page gets them.
function hlsRange (id, cls, startMs, duration, attr) {
  return { id, class: cls, startDate: new Date(startMs), duration, attr }
}

test('hls.js date ranges become plain ranges of the two classes, by start', () => {
  const got = N.rangesOf({
    'next-30': hlsRange('next-30', N.NEXT_CLASS, T0 + 200000, 60, { 'X-TITLE': 'C - c' }),
    'track-1': hlsRange('track-1', N.TRACK_CLASS, T0, 100, { 'X-TITLE': 'A - a', 'X-ARTWORK': '/ipfs/bafkreiaaaaaaaaaaaaaaaa' }),
    other: hlsRange('other', 'com.example.ad', T0, 30, {}),
    open: hlsRange('open', N.TRACK_CLASS, T0, null, {})
  })
  assert.deepEqual(got.map((r) => [r.id, r.title, r.artwork]),
    [['track-1', 'A - a', '/ipfs/bafkreiaaaaaaaaaaaaaaaa'], ['next-30', 'C - c', null]])
  assert.equal(got[0].start, T0)
})

test('the track on air is the track range holding the programme time', () => {
  const rs = [track(1, 0, 100, 'A'), track(20, 100, 50, 'B'), next(30, 150, 60, 'C')]
  assert.equal(N.onAir(rs, T0 + 99999).title, 'A')
  assert.equal(N.onAir(rs, T0 + 100000).title, 'B')
  assert.equal(N.onAir(rs, T0 + 160000), null) // an announcement is not on air
  assert.equal(N.onAir(rs, T0 - 1), null)
})

test('recently played: tracks that ended before the programme time, newest first', () => {
  const rs = [track(1, 0, 100, 'A'), track(20, 100, 50, 'B'), track(30, 150, 60, 'C'), next(40, 210, 10, 'D')]
  assert.deepEqual(N.recentlyPlayed(rs, T0 + 170000, 5).map((r) => r.title), ['B', 'A'])
  assert.deepEqual(N.recentlyPlayed(rs, T0 + 150000, 5).map((r) => r.title), ['B', 'A'])
  assert.deepEqual(N.recentlyPlayed(rs, T0 + 149999, 5).map((r) => r.title), ['A'])
  assert.deepEqual(N.recentlyPlayed(rs, T0 + 500000, 2).map((r) => r.title), ['C', 'B'])
})

test('history keeps every track seen across playlists, without announcements, up to keep', () => {
  let h = N.remember([], [track(1, 0, 100, 'A'), track(20, 100, 50, 'B'), next(30, 150, 60, 'C')], 10)
  assert.deepEqual(h.map((r) => r.title), ['A', 'B'])
  // A later playlist no longer lists A; it lists C, now on air.
  h = N.remember(h, [track(20, 100, 50, 'B'), track(30, 150, 60, 'C')], 10)
  assert.deepEqual(h.map((r) => r.title), ['A', 'B', 'C'])
  h = N.remember(h, [track(40, 210, 10, 'D')], 3)
  assert.deepEqual(h.map((r) => r.title), ['B', 'C', 'D'])
})

test('next up: the first track starting after the programme time, its own tag before an announcement', () => {
  const rs = [track(1, 0, 100, 'A'), next(20, 100, 50, 'B (announced)'), track(20, 100, 50, 'B'), next(30, 150, 60, 'C')]
  assert.equal(N.nextUp(rs, T0 + 10000).title, 'B')
  assert.equal(N.nextUp([...rs].reverse(), T0 + 10000).title, 'B')
  assert.equal(N.nextUp(rs, T0 + 100000).title, 'C') // B has started: C comes next
  assert.equal(N.nextUp([next(30, 150, 60, 'C')], T0 + 10000).title, 'C')
  assert.equal(N.nextUp(rs, T0 + 150000), null)
})

test('behind live: whole seconds between the device clock and the programme time', () => {
  assert.equal(N.behindLive(T0, T0 + 45400), 45)
  assert.equal(N.behindLive(T0, T0 + 45600), 46)
  assert.equal(N.behindLive(T0 + 1000, T0), 0)
  assert.equal(N.behindLive(null, T0), null)
  assert.equal(N.awayFromLive(T0, T0 + 45300, 45, 1), false)
  assert.equal(N.awayFromLive(T0, T0 + 47000, 45, 1), true)
  assert.equal(N.awayFromLive(T0, T0 + 43000, 45, 1), true)
  assert.equal(N.awayFromLive(null, T0, 45, 1), false)
})

test('"Artist - Title" splits at the first separator', () => {
  assert.deepEqual(N.splitTitle('Band - Song - Live'), { artist: 'Band', title: 'Song - Live' })
  assert.deepEqual(N.splitTitle('Jingle'), { artist: '', title: 'Jingle' })
  assert.deepEqual(N.splitTitle(''), { artist: '', title: '' })
})

const PATH_GW = { protocol: 'http:', host: '127.0.0.1:8080', pathname: '/ipfs/bafybeipage/' }
const SUB_GW = { protocol: 'http:', host: 'bafybeipage.ipfs.localhost:8080', pathname: '/' }
const CID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

test('artwork: /ipfs/<cid> on a path gateway, a subdomain on a subdomain gateway, else the fallback', () => {
  assert.equal(N.artworkUrl('/ipfs/' + CID, PATH_GW, 'station.png'), '/ipfs/' + CID)
  assert.equal(N.artworkUrl('/ipfs/' + CID, SUB_GW, 'station.png'), `http://${CID}.ipfs.localhost:8080/`)
  assert.equal(N.artworkUrl(null, PATH_GW, 'station.png'), 'station.png')
  assert.equal(N.artworkUrl('javascript:alert(1)', PATH_GW, 'station.png'), 'station.png')
  assert.equal(N.artworkUrl('https://evil.example/x.png', PATH_GW, 'station.png'), 'station.png')
  assert.equal(N.artworkUrl('/ipfs/' + CID + '/../x', PATH_GW, 'station.png'), 'station.png')
  assert.equal(N.gatewayUrl('ipns', 'k51qzi5uqu5d', SUB_GW), 'http://k51qzi5uqu5d.ipns.localhost:8080/')
  assert.equal(N.gatewayUrl('ipns', 'k51qzi5uqu5d', PATH_GW), '/ipns/k51qzi5uqu5d')
  assert.equal(N.gatewayUrl('ipns', 'a/b', PATH_GW), null)
})

test('the listener status: off air on an old playlist or a down station, else what playback does', () => {
  const base = { loaded: true, started: true, paused: false, waiting: false, playlistAge: 3, delay: 45, target: 6, health: null }
  assert.equal(N.listenerStatus(base), 'playing')
  assert.equal(N.listenerStatus({ ...base, waiting: true }), 'buffering')
  assert.equal(N.listenerStatus({ ...base, paused: true }), 'paused')
  assert.equal(N.listenerStatus({ ...base, started: false }), 'ready')
  assert.equal(N.listenerStatus({ ...base, started: false, wanted: true }), 'buffering')
  assert.equal(N.listenerStatus({ ...base, loaded: false, playlistAge: null }), 'connecting')
  assert.equal(N.listenerStatus({ ...base, playlistAge: 56 }), 'playing')
  assert.equal(N.listenerStatus({ ...base, playlistAge: 58 }), 'off-air')
  assert.equal(N.listenerStatus({ ...base, health: 'down' }), 'off-air')
  assert.equal(N.listenerStatus({ ...base, health: 'degraded' }), 'playing')
  for (const k of Object.keys(N.STATUS_TEXT)) assert.doesNotMatch(N.STATUS_TEXT[k], /ipns|gateway|degraded|error/i)
})
