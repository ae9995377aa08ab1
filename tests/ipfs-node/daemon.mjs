// Loopback-only, offline js-ipfs daemon for the test suite.
//
// Same code path as `jsipfs daemon --offline` (ipfs-daemon's Daemon class:
// ipfs-core + HTTP RPC API + HTTP gateway), but in ONE process that also
// initialises an EMPTY repo (the CLI's auto-init would add and pin the
// CIDv0 "readme" assets, which breaks `pin/ls?cid-base=base32` and object
// counts) and skips the CLI's npm update check (network).
//
// Usage: IPFS_PATH=DIR/repo node --import ./polyfill.mjs daemon.mjs [API_PORT [GATEWAY_PORT]]
//   Ports default to 0 (the kernel picks free ones; no check-then-bind race).
//   When IPFS_NODE_READY_FILE is set, "api=URL\ngateway=URL\n" is written
//   to it (atomically) once both servers listen.
//   IPFS_NODE_ROUTING=dht starts the node online with a DHT server that has
//   no peers (loopback swarm, no bootstrap): dht/put then stores a record
//   locally and name/resolve reads it back through the IPNS validator, the
//   only way a js-ipfs node takes a record signed elsewhere.
import fs from 'node:fs'
import { Daemon } from 'ipfs-daemon'

const repo = process.env.IPFS_PATH
if (!repo) {
  console.error('IPFS_PATH must be set')
  process.exit(2)
}
const apiPort = Number(process.argv[2] ?? 0)
const gatewayPort = Number(process.argv[3] ?? 0)
const dht = process.env.IPFS_NODE_ROUTING === 'dht'

// Merged over js-ipfs' defaults when the repo is first created.
const config = {
  Addresses: {
    API: `/ip4/127.0.0.1/tcp/${apiPort}`,
    Gateway: `/ip4/127.0.0.1/tcp/${gatewayPort}`,
    RPC: '', // no gRPC-over-websocket server
    Swarm: [],
    Announce: [],
    NoAnnounce: [],
    Delegates: []
  },
  Bootstrap: [],
  Discovery: { MDNS: { Enabled: false }, webRTCStar: { Enabled: false } },
  Routing: { Type: dht ? 'dhtserver' : 'none' },
  Swarm: { DisableNatPortMap: true }
}

// Same policy as the ipfs CLI: die loudly rather than limp on.
process.once('uncaughtException', (err) => { console.error(err); process.exit(1) })
process.once('unhandledRejection', (err) => { console.error(err); process.exit(1) })

const t0 = Date.now()
console.log(`Initializing IPFS daemon (repo ${repo})...`)
console.log(`Node.js version: ${process.versions.node}`)

const daemon = new Daemon({
  repo,
  config,
  offline: !dht,
  silent: true,
  preload: { enabled: false },
  init: { emptyRepo: true, algorithm: 'Ed25519' },
  EXPERIMENTAL: { ipnsPubsub: false, sharding: false }
})

await daemon.start()

const { version } = await daemon._ipfs.version()
console.log(`js-ipfs (ipfs-core) version: ${version}`)

const urls = {}
for (const s of daemon._httpApi?._apiServers ?? []) {
  console.log(`HTTP API listening on ${s.info.ma}`)
  urls.api ??= `http://127.0.0.1:${s.info.port}`
}
for (const s of daemon._httpGateway?._gatewayServers ?? []) {
  console.log(`Gateway (read only) listening on ${s.info.ma}`)
  urls.gateway ??= `http://127.0.0.1:${s.info.port}`
}
if (!urls.api || !urls.gateway) throw new Error('API or gateway server did not start')

const readyFile = process.env.IPFS_NODE_READY_FILE
if (readyFile) {
  fs.writeFileSync(`${readyFile}.tmp`, `api=${urls.api}\ngateway=${urls.gateway}\n`)
  fs.renameSync(`${readyFile}.tmp`, readyFile)
}
console.log(`Daemon is ready (${Date.now() - t0} ms after modules loaded)`)

let stopping = false
const shutdown = async (sig) => {
  if (stopping) return
  stopping = true
  console.log(`Received ${sig}, shutting down...`)
  setTimeout(() => process.exit(0), 5000).unref()
  try { await daemon.stop() } catch (err) { console.error(err) }
  process.exit(0)
}
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => { shutdown(sig) })
