// A Delegated Routing HTTP endpoint for the tests (the IPNS part of
// /routing/v1): PUT validates each record with the independent `ipns`
// package and keeps the best one per name (a lower sequence is refused, as
// the DHT refuses it); GET serves it back.
//
//   node ipns-routing-server.mjs PORTFILE   -> listens on 127.0.0.1:<free port>,
//                                              writes the base URL to PORTFILE
//   GET /stats -> {"accepted": n, "rejected": n, "last_error": "..."}
import fs from 'node:fs'
import http from 'node:http'
import { unmarshalIPNSRecord, multihashToIPNSRoutingKey } from 'ipns'
import { ipnsValidator } from 'ipns/validator'
import { CID } from 'multiformats/cid'
import { base36 } from 'multiformats/bases/base36'

const TYPE = 'application/vnd.ipfs.ipns-record'
const records = new Map()
const stats = { accepted: 0, rejected: 0, last_error: '' }

function reject (res, status, msg) {
  stats.rejected++
  stats.last_error = msg
  res.writeHead(status, { 'content-type': 'text/plain' }).end(msg)
}

const server = http.createServer(async (req, res) => {
  const m = req.url.match(/^\/routing\/v1\/ipns\/([^/?]+)$/)
  if (req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats))
    return
  }
  if (!m) {
    res.writeHead(404).end()
    return
  }
  const name = m[1]
  if (req.method === 'GET') {
    const r = records.get(name)
    if (!r) res.writeHead(404).end()
    else res.writeHead(200, { 'content-type': TYPE }).end(r)
    return
  }
  if (req.method !== 'PUT') {
    res.writeHead(405).end()
    return
  }
  const chunks = []
  for await (const c of req) chunks.push(c)
  const body = Buffer.concat(chunks)
  if (req.headers['content-type'] !== TYPE) return reject(res, 415, `content-type ${req.headers['content-type']}`)
  try {
    const key = multihashToIPNSRoutingKey(CID.parse(name, base36).multihash)
    await ipnsValidator(key, body)
    const seq = unmarshalIPNSRecord(body).sequence
    const old = records.get(name)
    if (old && unmarshalIPNSRecord(old).sequence > seq) return reject(res, 409, `sequence ${seq} is below the one held`)
    records.set(name, body)
    stats.accepted++
    res.writeHead(200).end()
  } catch (err) {
    reject(res, 400, `invalid record: ${err.name}: ${err.message}`)
  }
})

server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(process.argv[2], `http://127.0.0.1:${server.address().port}\n`)
})
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)))
