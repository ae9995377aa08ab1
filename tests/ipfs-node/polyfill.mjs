// Polyfills for running js-ipfs 0.66.1 (and its newer transitive deps) on Node 20.
// Load with: node --import ./polyfill.mjs daemon.mjs   (also works for node_modules/ipfs/src/cli.js)

// it-queue, mortice and abort-error (newer transitive deps) call Promise.withResolvers (ES2024, native only in Node >= 22).
if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers () {
      let resolve, reject
      const promise = new this((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    }
  })
}
