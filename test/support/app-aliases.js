/*
 * The `@app/<lib>` path aliases of tsconfig.json for code Jest's moduleNameMapper does not reach: child
 * processes (register-ts.js) and Jest's globalSetup. Idempotent.
 */
const path = require('node:path');
const Module = require('node:module');

const root = path.resolve(__dirname, '..', '..');
if (!Module._resolveFilename.appAliases) {
  const originalResolve = Module._resolveFilename;
  const resolve = function resolve(request, parent, ...rest) {
    const match = /^@app\/([a-z]+)(\/.*)?$/.exec(request);
    if (match) request = path.join(root, 'libs', match[1], 'src', match[2] ?? '');
    return originalResolve.call(this, request, parent, ...rest);
  };
  resolve.appAliases = true;
  Module._resolveFilename = resolve;
}
