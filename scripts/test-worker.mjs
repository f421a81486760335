#!/usr/bin/env node
// Runs mediasoup's own jest suite (shipped compiled in the npm tarball under
// node/lib/tests) against the worker binary that scripts/build-worker.mjs built.
// This is the honest proof that a worker built against Debian's libraries
// behaves like the upstream one.
//
// The suite is copied to .cache/mediasoup-suite (node_modules is never edited),
// given the self-signed DTLS certificate pair it expects, and run with the
// project's jest. Extra arguments are passed to jest.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const projectDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const mediasoupDir = path.join(projectDir, 'node_modules', 'mediasoup');
const workerBin = process.env.MEDIASOUP_WORKER_BIN ||
	path.join(mediasoupDir, 'worker', 'out', 'Release', 'mediasoup-worker');
const suiteDir = path.join(projectDir, '.cache', 'mediasoup-suite');

if (!fs.existsSync(workerBin)) {
	console.error(`[test-worker] no worker at ${workerBin}: run npm install first`);
	process.exit(1);
}

fs.rmSync(suiteDir, { recursive: true, force: true });
fs.mkdirSync(suiteDir, { recursive: true });
fs.cpSync(path.join(mediasoupDir, 'node', 'lib'), path.join(suiteDir, 'node', 'lib'), { recursive: true });
fs.copyFileSync(path.join(mediasoupDir, 'package.json'), path.join(suiteDir, 'package.json'));

const dataDir = path.join(suiteDir, 'node', 'lib', 'tests', 'data');
fs.mkdirSync(dataDir, { recursive: true });
const openssl = spawnSync('openssl', [
	'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=mediasoup-test',
	'-keyout', path.join(dataDir, 'dtls-key.pem'), '-out', path.join(dataDir, 'dtls-cert.pem'),
], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (openssl.status !== 0) {
	console.error(`[test-worker] openssl could not make the DTLS test certificate:\n${openssl.stderr}`);
	process.exit(1);
}

const jestConfig = {
	rootDir: suiteDir,
	testEnvironment: 'node',
	testRegex: 'node/lib/tests/test-.*\\.js$',
	cacheDirectory: path.join(projectDir, '.cache', 'jest-mediasoup'),
};
const jest = spawnSync(process.execPath, [
	path.join(projectDir, 'node_modules', 'jest', 'bin', 'jest.js'),
	'--config', JSON.stringify(jestConfig),
	...process.argv.slice(2),
], {
	cwd: suiteDir,
	stdio: 'inherit',
	env: { ...process.env, MEDIASOUP_WORKER_BIN: workerBin },
});
process.exit(jest.status ?? 1);
