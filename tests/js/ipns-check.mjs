// An independent IPNS implementation (the `ipns` npm package, pinned in
// package-lock.json) checking what the streamer signs.
//
//   node ipns-check.mjs name KEYFILE          -> "<k51 name> <peer id>" derived by @libp2p/crypto
//   node ipns-check.mjs validate NAME RECORD  -> exit 0 if the record is valid for NAME
//   node ipns-check.mjs remake KEYFILE RECORD -> writes to stdout the record the
//        package builds from the same key and fields (byte comparison)
//   node ipns-check.mjs fields RECORD         -> the record's fields as JSON
import fs from 'node:fs'
import { createIPNSRecordWithExpiration, marshalIPNSRecord, unmarshalIPNSRecord, multihashToIPNSRoutingKey } from 'ipns'
import { ipnsValidator } from 'ipns/validator'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { CID } from 'multiformats/cid'
import { base36 } from 'multiformats/bases/base36'
import { base58btc } from 'multiformats/bases/base58'

const [cmd, a, b] = process.argv.slice(2)

function routingKey (name) {
  const cid = name.startsWith('k') ? CID.parse(name, base36) : CID.parse(name.startsWith('1') ? `z${name}` : name, base58btc)
  return multihashToIPNSRoutingKey(cid.multihash)
}

try {
  if (cmd === 'name') {
    const key = privateKeyFromProtobuf(fs.readFileSync(a))
    console.log(`${key.publicKey.toCID().toString(base36)} ${key.publicKey.toString()}`)
  } else if (cmd === 'validate') {
    await ipnsValidator(routingKey(a), fs.readFileSync(b))
    console.log('valid')
  } else if (cmd === 'remake') {
    const key = privateKeyFromProtobuf(fs.readFileSync(a))
    const r = unmarshalIPNSRecord(fs.readFileSync(b))
    const again = await createIPNSRecordWithExpiration(key, r.value, r.sequence, r.validity,
      { ttlNs: r.ttl, v1Compatible: true })
    process.stdout.write(marshalIPNSRecord(again))
  } else if (cmd === 'fields') {
    const r = unmarshalIPNSRecord(fs.readFileSync(a))
    console.log(JSON.stringify({ value: r.value, sequence: String(r.sequence), validity: r.validity, ttl: String(r.ttl) }))
  } else {
    console.error('usage: ipns-check.mjs name|validate|remake|fields ...')
    process.exit(2)
  }
} catch (err) {
  console.error(`invalid: ${err.name}: ${err.message}`)
  process.exit(1)
}
