// The listener page as a person sees it, in headless chromium: opens it,
// presses Play, and records what the page shows beside hls.js's programme
// time (sampled once a second), where its elements are at a desktop and a
// phone size (with a screenshot of each), and what keyboard, volume, pause,
// "go live" and a station going off air do. Judging is the caller's
// business; this only drives and records.
//
//   node page_check.mjs URL OUT_DIR
//
// Writes OUT_DIR/page.json, desktop.png and phone.png. After the playing
// checks it creates OUT_DIR/ready-for-off-air and waits up to
// OFF_AIR_WAIT_MS for the page to say the station is off air (the caller
// stops the streamer). Env: CHROMIUM (default /usr/bin/chromium).
import fs from 'node:fs'
import path from 'node:path'
import { chromium } from 'playwright-core'

const [url, outDir] = process.argv.slice(2)
if (!outDir) {
  console.error('usage: node page_check.mjs URL OUT_DIR')
  process.exit(2)
}
const READY_MS = 120000
const SAMPLES = 25
const DESKTOP = { width: 1280, height: 800 }
const PHONE = { width: 390, height: 844 }
const OFF_AIR_WAIT_MS = 120000
// The elements a listener needs, and which of them must be on the first screen.
const ELEMENTS = ['#station-art', '#station-name', '#station-description', '#station-link', '#cover', '#now',
  '#bar', '#time', '#play', '#volume', '#status', '#behind', '#golive', '#next', '#recent']
const FIRST_SCREEN = ['#station-name', '#cover', '#now', '#bar', '#play', '#status']

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--disable-background-timer-throttling', '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows', '--disable-audio-output']
})
const record = { url, console: [], samples: [] }
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function shown () {
  const text = (sel) => { const e = document.querySelector(sel); return e ? e.textContent.trim() : null }
  const d = window.radioListener.hls && window.radioListener.hls.playingDate
  const a = document.getElementById('audio')
  const md = navigator.mediaSession && navigator.mediaSession.metadata
  const cover = document.getElementById('cover')
  return {
    wallEpochMs: Date.now(),
    programTimeMs: d ? d.getTime() : null,
    paused: a.paused,
    readyState: a.readyState,
    seeking: a.seeking,
    volume: a.volume,
    now: text('#now'),
    docTitle: document.title,
    next: text('#next .title'),
    recent: [...document.querySelectorAll('#recent .title')].map((e) => e.textContent),
    behind: text('#behind'),
    status: text('#status'),
    goLiveDisabled: document.getElementById('golive').disabled,
    bar: { value: document.getElementById('bar').value, max: document.getElementById('bar').max },
    time: text('#time'),
    cover: { src: cover.src, loaded: cover.complete && cover.naturalWidth > 0 },
    mediaSession: md ? { title: md.title, artist: md.artist, album: md.album, artwork: md.artwork.map((x) => x.src) } : null,
    airError: window.radioListener.snapshot().airError
  }
}

function layout (elements) {
  const out = { viewport: { width: innerWidth, height: innerHeight },
    scrollWidth: document.scrollingElement.scrollWidth, scrollHeight: document.scrollingElement.scrollHeight, rects: {} }
  for (const sel of elements) {
    const e = document.querySelector(sel)
    if (!e) { out.rects[sel] = null; continue }
    const r = e.getBoundingClientRect()
    const cs = getComputedStyle(e)
    out.rects[sel] = { x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height,
      visible: cs.visibility !== 'hidden' && cs.display !== 'none' && !e.hidden && r.width > 0 && r.height > 0 }
  }
  return out
}

async function at (page, size, name) {
  await page.setViewportSize(size)
  await sleep(1000)
  const l = await page.evaluate(layout, ELEMENTS)
  l.firstScreen = FIRST_SCREEN
  l.screenshot = path.join(outDir, name + '.png')
  await page.screenshot({ path: l.screenshot, fullPage: true })
  return l
}

let status = 0
try {
  const context = await browser.newContext({ viewport: DESKTOP })
  const page = await context.newPage()
  page.on('console', (m) => { if (record.console.length < 200) record.console.push(`${m.type()}: ${m.text()}`) })
  page.on('pageerror', (e) => record.console.push(`pageerror: ${e.message}`))
  await page.goto(url, { timeout: READY_MS })
  record.beforePlay = await page.evaluate(() => ({ status: document.getElementById('status').textContent }))
  await page.waitForFunction(() => !document.getElementById('play').disabled, null, { timeout: READY_MS })
  await page.click('#play')
  // Playing, with something aired and something announced.
  await page.waitForFunction(() => {
    const a = document.getElementById('audio')
    // started: the media element said "playing" (a position alone may be
    // the start hls.js seeked to, before any data).
    return !a.paused && window.radioListener.stats.started && document.getElementById('now').textContent &&
      document.querySelector('#recent .title') && document.querySelector('#next .title')
  }, null, { timeout: READY_MS, polling: 500 })
  for (let i = 0; i < SAMPLES; i++) {
    record.samples.push(await page.evaluate(shown))
    await sleep(1000)
  }
  record.desktop = await at(page, DESKTOP, 'desktop')
  record.phone = await at(page, PHONE, 'phone')
  await page.setViewportSize(DESKTOP)

  // Keyboard: Tab reaches Play, which shows a focus ring.
  record.focus = null
  for (let i = 0; i < 12 && !record.focus; i++) {
    await page.keyboard.press('Tab')
    record.focus = await page.evaluate(() => {
      const e = document.activeElement
      return e && e.id === 'play' ? { tabs: 0, outline: getComputedStyle(e).outlineStyle, width: getComputedStyle(e).outlineWidth } : null
    })
    if (record.focus) record.focus.tabs = i + 1
  }
  // Volume by keyboard.
  await page.focus('#volume')
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowLeft')
  record.afterVolume = await page.evaluate(shown)
  // k pauses; "go live" is offered and the distance grows; go live plays
  // again at the shared position.
  await page.evaluate(() => document.activeElement.blur())
  await page.keyboard.press('k')
  await sleep(500)
  record.afterK = await page.evaluate(shown)
  await sleep(4000)
  record.paused = await page.evaluate(shown)
  await page.click('#golive')
  await page.waitForFunction(() => !document.getElementById('audio').paused, null, { timeout: 20000 })
  const t0 = Date.now()
  await page.waitForFunction(() => {
    const e = window.radioListener.snapshot().airError
    return typeof e === 'number' && Math.abs(e) < 0.5 && window.radioListener.snapshot().seeks > 0
  }, null, { timeout: 30000, polling: 250 })
  await sleep(2000)
  record.afterGoLive = await page.evaluate(shown)
  record.afterGoLive.alignedAfterMs = Date.now() - t0
  // Space pauses and plays (focus on the page, not a button).
  await page.evaluate(() => document.activeElement && document.activeElement.blur())
  await page.keyboard.press(' ')
  await sleep(500)
  record.afterSpace = await page.evaluate(shown)
  await page.keyboard.press(' ')
  await sleep(1500)
  record.afterSpace2 = await page.evaluate(shown)

  fs.writeFileSync(path.join(outDir, 'ready-for-off-air'), '')
  const t1 = Date.now()
  record.offAir = null
  while (Date.now() - t1 < OFF_AIR_WAIT_MS) {
    const s = await page.evaluate(shown)
    if (s.status === 'Station off air') { record.offAir = { ...s, afterMs: Date.now() - t1 }; break }
    record.beforeOffAir = s
    await sleep(500)
  }
} catch (e) {
  record.driverError = String(e && e.stack ? e.stack : e)
  status = 1
} finally {
  fs.writeFileSync(path.join(outDir, 'page.json'), JSON.stringify(record, null, 1))
  await browser.close()
}
process.exit(status)
