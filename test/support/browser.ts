import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify, stripVTControlCharacters } from 'node:util';
import { Browser, chromium } from 'playwright-core';

/**
 * Flags for every browser the tests start. From the package's recommended `args` we take the ones that fit a
 * headless test (no zygote, no pings, no reliability reports, fixed font hinting for stable screenshots) and leave
 * out those that only serve AWS Lambda (`--single-process`) or change what a page may do
 * (`--disable-web-security`, `--allow-running-insecure-content`, site isolation off): the dashboard test checks
 * what the page loads and logs, so the browser must enforce the usual rules.
 */
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const NPM_ONLY_ARGS = [
  '--no-zygote',
  '--no-pings',
  '--disable-domain-reliability',
  '--disable-print-preview',
  '--font-render-hinting=none',
];

const PACKAGE_ENTRY = require.resolve('@sparticuz/chromium');
const PACKAGE_DIR = join(dirname(PACKAGE_ENTRY), '..', '..');
const PACKAGE_VERSION = (
  JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string }
).version;

interface UnpackedChromium {
  executable: string;
  libDir: string;
  fontConfig: string;
}

/**
 * Starts a headless Chromium for a browser test: the one npm installs (`@sparticuz/chromium`, with the shared
 * libraries it ships), or, only when that one cannot start, a system chromium (`CHROMIUM_PATH`, else
 * `/usr/bin/chromium`). Throws one error naming both failures when neither starts.
 */
export async function launchTestBrowser(): Promise<Browser> {
  let npmFailure: string;
  try {
    const npm = await unpackNpmChromium();
    return await chromium.launch({
      executablePath: npm.executable,
      headless: true,
      args: [...ARGS, ...NPM_ONLY_ARGS],
      // The binary is built for Amazon Linux: NSS, NSPR and expat come from the package, not from the host.
      env: {
        ...process.env,
        LD_LIBRARY_PATH: [npm.libDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
        FONTCONFIG_FILE: npm.fontConfig,
      },
    });
  } catch (err) {
    npmFailure = reason(err);
  }

  const system = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  let systemFailure: string;
  if (existsSync(system)) {
    try {
      const browser = await chromium.launch({ executablePath: system, headless: true, args: ARGS });
      console.warn(`@sparticuz/chromium ${PACKAGE_VERSION} did not start (${npmFailure}); using ${system}`);
      return browser;
    } catch (err) {
      systemFailure = reason(err);
    }
  } else {
    systemFailure = 'not found';
  }
  throw new Error(
    'No browser for the browser tests.\n' +
      `  @sparticuz/chromium ${PACKAGE_VERSION} (installed by npm ci, unpacked into ${npmDir()}): ${npmFailure}\n` +
      `  ${system} (CHROMIUM_PATH, else /usr/bin/chromium): ${systemFailure}\n` +
      'Run npm ci (and delete that directory if it is damaged), or set CHROMIUM_PATH to a Chromium that starts here.',
  );
}

/**
 * Unpacks the package's brotli files once per version into `<tmpdir>/kakao-relay-chromium-<version>`: the binary,
 * its shared libraries (`al2023/lib`), fonts and SwiftShader. The package writes into `os.tmpdir()` and unpacks
 * the libraries only when it believes it runs on AWS Lambda, so it runs in a child process whose `TMPDIR` is a
 * fresh directory and whose `AWS_LAMBDA_JS_RUNTIME` says Lambda (a child, because Jest's `process.env` is a copy
 * that `os.tmpdir()` never reads). The directory is renamed into place when complete, so parallel runs never see
 * half a binary, and a `/tmp/chromium` left by anything else is never used.
 */
async function unpackNpmChromium(): Promise<UnpackedChromium> {
  const dir = npmDir();
  const unpacked: UnpackedChromium = {
    executable: join(dir, 'chromium'),
    libDir: join(dir, 'al2023', 'lib'),
    fontConfig: join(dir, 'fonts.conf'),
  };
  if (existsSync(dir)) return unpacked;

  const staging = await mkdtemp(`${dir}.`);
  try {
    await promisify(execFile)(
      process.execPath,
      ['-e', `require(${JSON.stringify(PACKAGE_ENTRY)}).executablePath()`],
      { env: { ...process.env, TMPDIR: staging, AWS_LAMBDA_JS_RUNTIME: 'nodejs20.x' }, timeout: 120_000 },
    );
    for (const file of ['chromium', join('al2023', 'lib', 'libnss3.so')]) {
      if (!existsSync(join(staging, file))) {
        throw new Error(`${file} missing after unpacking into ${staging}`);
      }
    }
    // The package's fonts.conf names /tmp/fonts. Ours takes the host's font setup when there is one (so pages
    // look as in a desktop Chromium) and adds the bundled Open Sans, so text renders on a host without fonts.
    await writeFile(
      join(staging, 'fonts.conf'),
      [
        '<?xml version="1.0"?>',
        '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
        '<fontconfig>',
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>',
        '  <dir>/usr/share/fonts</dir>',
        `  <dir>${join(dir, 'fonts', 'fonts')}</dir>`,
        `  <cachedir>${join(dir, 'fonts-cache')}</cachedir>`,
        '</fontconfig>',
        '',
      ].join('\n'),
    );
    await chmod(join(staging, 'chromium'), 0o755);
    await chmod(staging, 0o755);
    await rename(staging, dir);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    // Another run renamed its copy into place first: use that one.
    if (existsSync(dir) && isCode(err, 'ENOTEMPTY', 'EEXIST')) return unpacked;
    throw err;
  }
  return unpacked;
}

function npmDir(): string {
  return join(tmpdir(), `kakao-relay-chromium-${PACKAGE_VERSION}`);
}

function isCode(err: unknown, ...codes: string[]): boolean {
  return err instanceof Error && codes.includes((err as NodeJS.ErrnoException).code ?? '');
}

/** An error's message without Playwright's command line and call log, which repeat what the browser said. */
function reason(err: unknown): string {
  const message = stripVTControlCharacters(err instanceof Error ? err.message : String(err));
  const lines = message.split('Call log:')[0].split('\n');
  return lines.filter((line) => line.trim() && !line.includes('<launching>')).join('\n    ');
}
