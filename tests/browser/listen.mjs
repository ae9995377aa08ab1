// Real listeners in headless chromium: opens the listener page, presses
// Play like a person would, and records, once per second, what the page
// measured and, beside it, what an observer outside the page's own
// bookkeeping sees: every fragment hls.js switches playback to (sequence
// number, discontinuity count, EXT-X-PROGRAM-DATE-TIME) and, from the media
// element and hls.js, the playing position and programme time. A second
// listener may join later. Judging is the caller's business; this only
// drives and records.
//
//   node listen.mjs URL SECONDS SECOND_AFTER_SECONDS OUT.json [URL ...]
//
// SECOND_AFTER_SECONDS < 0 means no second listener on URL. Each further URL
// is one more listener from the start (labelled "url2", "url3", ...). Env:
// CHROMIUM (path, default /usr/bin/chromium), LISTEN_SAMPLE_MS (how often each
// listener is sampled, default 1000).
import fs from 'node:fs'
import { chromium } from 'playwright-core'

const [url, seconds, secondAfter, out, ...moreUrls] = process.argv.slice(2)
if (!out) {
  console.error('usage: node listen.mjs URL SECONDS SECOND_AFTER_SECONDS OUT.json')
  process.exit(2)
}
const listenMs = Number(seconds) * 1000
const secondMs = Number(secondAfter) * 1000
const SAMPLE_MS = Number(process.env.LISTEN_SAMPLE_MS || 1000)
const READY_MS = 60000

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    // Pages in the background must keep their timers and media running.
    '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows',
    // No sound card here: play into a sink that still keeps real time.
    '--disable-audio-output'
  ]
})

const record = { url, started: Date.now(), codecs: null, listeners: [] }

async function listener (label, pageUrl = url) {
  const context = await browser.newContext()
  const page = await context.newPage()
  const l = { label, url: pageUrl, joinedAt: Date.now(), console: [], samples: [], observed: [] }
  record.listeners.push(l) // before anything can fail, so that its console is kept
  l.pageRef = page
  page.on('console', (m) => { if (l.console.length < 200) l.console.push(`${m.type()}: ${m.text()}`) })
  page.on('pageerror', (e) => l.console.push(`pageerror: ${e.message}`))
  const resp = await page.goto(pageUrl, { timeout: READY_MS })
  l.pageStatus = resp ? resp.status() : null
  l.pageContentType = resp ? resp.headers()['content-type'] : null
  if (!record.codecs) {
    record.codecs = await page.evaluate(() => ({
      aac: window.MediaSource ? MediaSource.isTypeSupported('audio/mp4; codecs="mp4a.40.2"') : false,
      userAgent: navigator.userAgent
    }))
  }
  // The observer is hooked to hls.js before Play, so it sees the first fragment.
  await page.waitForFunction(() => window.radioListener && window.radioListener.hls, null, { timeout: READY_MS })
  await page.evaluate(() => {
    const hls = window.radioListener.hls
    window.radioObserver = { frags: [] }
    hls.on(window.Hls.Events.FRAG_CHANGED, (_, d) => {
      window.radioObserver.frags.push({ sn: d.frag.sn, cc: d.frag.cc, pdt: d.frag.programDateTime, wallEpochMs: Date.now() })
    })
  })
  const button = page.locator('#play')
  await button.waitFor({ state: 'visible', timeout: READY_MS })
  await page.waitForFunction(() => !document.getElementById('play').disabled, null, { timeout: READY_MS })
  await button.click()
  l.page = page
  return l
}

async function sample (l) {
  try {
    const s = await l.page.evaluate(() => window.radioListener.snapshot())
    l.samples.push(s)
    l.observed.push(await l.page.evaluate(() => {
      const a = document.querySelector('audio')
      const d = window.radioListener.hls.playingDate
      return { wallEpochMs: Date.now(), currentTime: a.currentTime, paused: a.paused, readyState: a.readyState,
               programTimeMs: d ? d.getTime() : null }
    }))
  } catch (e) {
    l.samples.push({ wallEpochMs: Date.now(), driverError: String(e) })
  }
}

let status = 0
try {
  const first = await listener('first')
  const more = []
  for (const [i, u] of moreUrls.entries()) more.push(await listener(`url${i + 2}`, u))
  const t0 = Date.now()
  let second = null
  while (Date.now() - t0 < listenMs) {
    if (!second && secondMs >= 0 && Date.now() - t0 >= secondMs) second = await listener('second')
    await sample(first)
    for (const l of more) await sample(l)
    if (second) await sample(second)
    await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS))
  }
} catch (e) {
  record.driverError = String(e && e.stack ? e.stack : e)
  status = 1
} finally {
  for (const l of record.listeners) {
    try { l.frags = await (l.page || l.pageRef).evaluate(() => window.radioObserver.frags) } catch (e) { l.frags = null }
    delete l.page
    delete l.pageRef
  }
  record.finished = Date.now()
  fs.writeFileSync(out, JSON.stringify(record, null, 1))
  await browser.close()
}
process.exit(status)
