// Parses a live media playlist with hls-parser, an implementation of the
// HLS spec that is not ours, and prints what it understood as JSON, or
// exits non-zero with its complaint.
import fs from 'node:fs'
import HLS from 'hls-parser'

const text = fs.readFileSync(process.argv[2] ?? 0, 'utf8')
HLS.setOptions({ strictMode: true })
let pl
try {
  pl = HLS.parse(text)
} catch (e) {
  console.error(`hls-parser refused the playlist: ${e.message}`)
  process.exit(1)
}
if (pl.isMasterPlaylist) {
  console.error('expected a media playlist')
  process.exit(1)
}
console.log(JSON.stringify({
  version: pl.version,
  targetDuration: pl.targetDuration,
  mediaSequenceBase: pl.mediaSequenceBase,
  discontinuitySequenceBase: pl.discontinuitySequenceBase,
  endlist: pl.endlist,
  playlistType: pl.playlistType ?? null,
  segments: pl.segments.map((s) => ({
    uri: s.uri,
    duration: s.duration,
    title: s.title,
    discontinuity: s.discontinuity,
    mediaSequenceNumber: s.mediaSequenceNumber,
    discontinuitySequence: s.discontinuitySequence,
    programDateTime: s.programDateTime ? s.programDateTime.toISOString() : null
  })),
  // Header and segment date ranges alike, with their client (X-) attributes.
  dateRanges: [...(pl.dateRanges ?? []), ...pl.segments.filter((s) => s.dateRange).map((s) => s.dateRange)]
    .map((d) => ({ id: d.id, classId: d.classId, attributes: d.attributes }))
}))
