'use strict';
/*
 * Preloaded into a relay child by a test that reads the child's memory (`spawnRelay(env, 'ready', { gc: true })`);
 * not part of the relay. On `{type: 'gc'}` over the IPC channel it collects garbage twice (a macrotask apart, so
 * that what the first collection's finalizers released is swept too) and answers `{type: 'gc-done', rssBytes}`.
 * Without `--expose-gc` or an IPC channel it does nothing.
 */
const { setImmediate } = require('node:timers');

if (typeof process.send === 'function' && typeof global.gc === 'function') {
  process.on('message', (message) => {
    if (!message || message.type !== 'gc') return;
    global.gc();
    setImmediate(() => {
      global.gc();
      process.send({ type: 'gc-done', rssBytes: process.memoryUsage.rss() });
    });
  });
  // The channel must not keep a relay that is shutting down alive.
  process.channel?.unref();
}
