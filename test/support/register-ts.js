/*
 * Lets a child process run the TypeScript sources directly (`node -r ./test/support/register-ts.js
 * apps/relay/src/main.ts`), so multi-process tests need no prior build. Transpile-only, with the
 * `@app/*` path aliases of tsconfig.json (app-aliases.js).
 */
const fs = require('node:fs');
const ts = require('typescript');

const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  esModuleInterop: true,
  sourceMap: false,
  inlineSourceMap: true,
};

require('./app-aliases');

require.extensions['.ts'] = function compile(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
  module._compile(outputText, filename);
};
