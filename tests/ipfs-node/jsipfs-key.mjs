// Converts a key file in Kubo's import format (libp2p PrivateKey protobuf,
// what `radio-streamer key export` writes) into the password-encrypted
// form js-ipfs's key/import takes instead (its `pem` argument), using
// js-ipfs's own @libp2p/crypto.
//   node jsipfs-key.mjs KEYFILE PASSWORD -> prints the encrypted key
import fs from 'node:fs'
import { unmarshalPrivateKey } from '@libp2p/crypto/keys'

const key = await unmarshalPrivateKey(fs.readFileSync(process.argv[2]))
console.log(await key.export(process.argv[3]))
