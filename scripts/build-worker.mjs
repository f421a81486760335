#!/usr/bin/env node
// Builds the mediasoup worker from the installed npm package against Debian's
// own libraries, with no internet access, and installs it where mediasoup
// looks for it (node_modules/mediasoup/worker/out/Release/mediasoup-worker).
//
// Runs from `npm install` (the root package's postinstall). mediasoup's own
// postinstall stays denied in package.json's allowScripts: it would download
// a prebuilt binary or pip-install meson, neither of which works offline.
//
// The binary is cached outside the work tree, keyed by the mediasoup version,
// the platform, the project's patch files, this script and the versions of
// the Debian libraries it links, so a second install takes seconds and a
// changed patch or library never reuses a stale binary.
//
// See docs/worker-build.md for the why of each step.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dpkgVersion, ensurePackages, packages } from './system-packages.mjs';

const projectDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const mediasoupDir = path.join(projectDir, 'node_modules', 'mediasoup');
const patchDir = path.join(projectDir, 'patches', 'mediasoup-worker');
const installedBin = path.join(mediasoupDir, 'worker', 'out', 'Release', 'mediasoup-worker');

// Debian packages needed to build the worker (their runtime libraries come as dependencies).
const BUILD_PACKAGES = packages.worker;
// Bumped when the build steps change in a way that must not reuse a cached binary.
const RECIPE_VERSION = 1;
// Packages whose versions decide what the binary links against.
const LIBRARY_PACKAGES = [
	'libssl-dev', 'libuv1-dev', 'libsrtp2-dev', 'libusrsctp-dev', 'libabsl-dev',
	'nlohmann-json3-dev', 'g++',
];

// What mediasoup 3.12's meson.build reads from each subproject, provided here
// by the system library instead of downloaded sources. Each entry becomes a
// meson.build in the directory the .wrap file names.
const SUBPROJECT_STUBS = {
	openssl: {
		options: '',
		build: `openssl_dep = dependency('openssl', version: '>=3.0')
libcrypto_lib = static_library('switchyard_placeholder_libcrypto', 'placeholder.c')
libssl_lib = static_library('switchyard_placeholder_libssl', 'placeholder.c')`,
	},
	libuv: {
		options: `option('build_tests', type: 'boolean', value: false)
option('build_benchmarks', type: 'boolean', value: false)`,
		build: `libuv_dep = dependency('libuv', version: '>=1.44')
libuv = static_library('switchyard_placeholder_libuv', 'placeholder.c')`,
	},
	libsrtp2: {
		options: `option('crypto-library', type: 'combo', choices: ['none', 'openssl', 'nss', 'mbedtls'], value: 'openssl')
option('crypto-library-kdf', type: 'feature', value: 'auto')
option('tests', type: 'feature', value: 'disabled')`,
		// NOTE: mediasoup includes <srtp.h>; Debian installs it in /usr/include/srtp2
		// and its pkg-config file does not add that directory.
		build: `libsrtp2_dep = declare_dependency(
  dependencies: dependency('libsrtp2', version: '>=2.5'),
  include_directories: include_directories('/usr/include/srtp2'),
)
libsrtp2 = static_library('switchyard_placeholder_libsrtp2', 'placeholder.c')`,
	},
	usrsctp: {
		options: `option('sctp_build_programs', type: 'boolean', value: false)`,
		build: `usrsctp_dep = dependency('usrsctp')
usrsctp = static_library('switchyard_placeholder_usrsctp', 'placeholder.c')`,
	},
	'abseil-cpp': {
		options: '',
		build: `absl_container_dep = declare_dependency(dependencies: [
  dependency('absl_flat_hash_map'),
  dependency('absl_flat_hash_set'),
  dependency('absl_btree'),
  dependency('absl_inlined_vector'),
])
absl_strings_dep = dependency('absl_strings')
absl_types_dep = dependency('absl_optional')
absl_container_lib = static_library('switchyard_placeholder_absl', 'placeholder.c')`,
	},
	nlohmann_json: {
		options: '',
		build: `nlohmann_json_dep = dependency('nlohmann_json', version: '>=3.10')`,
	},
	catch2: {
		options: '',
		// Only the worker's own C++ tests use it; Debian's catch2 header is on
		// the default include path.
		build: `catch2_dep = declare_dependency()`,
	},
};

function log(message) {
	process.stdout.write(`[build-worker] ${message}\n`);
}

function fail(message) {
	process.stderr.write(`[build-worker] error: ${message}\n`);
	process.exit(1);
}

function run(cmd, args, options = {}) {
	const result = spawnSync(cmd, args, { stdio: 'inherit', ...options });
	if (result.status !== 0) {
		fail(`${cmd} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
	}
}

function ensureBuildPackages() {
	ensurePackages(BUILD_PACKAGES, 'to build the mediasoup worker', 'build-worker');
}

function cacheKey(mediasoupVersion) {
	const hash = createHash('sha256');
	hash.update(`mediasoup ${mediasoupVersion}\n${process.platform} ${process.arch}\n`);
	// The recipe: what the stubs provide and how meson is called. Bump
	// RECIPE_VERSION when changing the build in a way the stubs do not show.
	hash.update(`recipe ${RECIPE_VERSION}\n${JSON.stringify(SUBPROJECT_STUBS)}\n`);
	for (const file of listPatches()) {
		hash.update(`${path.basename(file)}\n`);
		hash.update(fs.readFileSync(file));
	}
	for (const pkg of LIBRARY_PACKAGES) {
		hash.update(`${pkg} ${dpkgVersion(pkg)}\n`);
	}
	return `${mediasoupVersion}-${process.platform}-${process.arch}-${hash.digest('hex').slice(0, 16)}`;
}

function listPatches() {
	if (!fs.existsSync(patchDir)) {
		return [];
	}
	return fs.readdirSync(patchDir).filter((f) => f.endsWith('.patch')).sort()
		.map((f) => path.join(patchDir, f));
}

function cacheRoot() {
	if (process.env.SWITCHYARD_WORKER_CACHE) {
		return process.env.SWITCHYARD_WORKER_CACHE;
	}
	const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
	return path.join(base, 'switchyard', 'mediasoup-worker');
}

/** Writes the subproject stubs into a copy of the worker source tree. */
function writeStubs(workerCopy) {
	const subprojectsDir = path.join(workerCopy, 'subprojects');
	for (const [name, stub] of Object.entries(SUBPROJECT_STUBS)) {
		const wrap = fs.readFileSync(path.join(subprojectsDir, `${name}.wrap`), 'utf8');
		const directory = /^directory\s*=\s*(.+)$/m.exec(wrap)?.[1].trim();
		if (!directory) {
			fail(`no directory line in ${name}.wrap`);
		}
		const dir = path.join(subprojectsDir, directory);
		fs.rmSync(dir, { recursive: true, force: true });
		fs.mkdirSync(dir, { recursive: true });
		fs.writeFileSync(path.join(dir, 'meson.build'),
			`project('${name}', 'c', version: 'system')\n${stub.build}\n`);
		fs.writeFileSync(path.join(dir, 'meson_options.txt'), `${stub.options}\n`);
		fs.writeFileSync(path.join(dir, 'placeholder.c'),
			`/* Empty: the real library comes from Debian through the dependency. */\n` +
			`int switchyard_placeholder_${name.replace(/\W/g, '_')}(void) { return 0; }\n`);
	}
}

function buildWorker(buildRoot) {
	const workerCopy = path.join(buildRoot, 'worker');
	fs.rmSync(buildRoot, { recursive: true, force: true });
	fs.mkdirSync(buildRoot, { recursive: true });
	fs.cpSync(path.join(mediasoupDir, 'worker'), workerCopy, {
		recursive: true,
		filter: (src) => !src.includes(`${path.sep}out${path.sep}`) && !src.endsWith(`${path.sep}out`),
	});

	for (const file of listPatches()) {
		log(`applying ${path.basename(file)}`);
		run('patch', ['-p1', '--forward', '--batch', '-d', workerCopy, '-i', file]);
	}
	writeStubs(workerCopy);

	// Bookworm ships meson 1.0.1; mediasoup asks for >= 1.1.0 but builds with 1.0.
	const mesonBuild = path.join(workerCopy, 'meson.build');
	fs.writeFileSync(mesonBuild,
		fs.readFileSync(mesonBuild, 'utf8').replace("meson_version: '>= 1.1.0'", "meson_version: '>= 1.0.0'"));

	const outDir = path.join(buildRoot, 'out');
	run('meson', ['setup', '--buildtype', 'release', '-Db_ndebug=true', '--wrap-mode=nodownload',
		outDir, workerCopy]);
	run('ninja', ['-C', outDir, 'mediasoup-worker']);
	return path.join(outDir, 'mediasoup-worker');
}

/** Starts the binary through mediasoup and creates a router and a WebRtcServer. */
function checkWorkerStarts(bin) {
	const probe = `
		const mediasoup = require('mediasoup');
		(async () => {
			const worker = await mediasoup.createWorker({ logLevel: 'error' });
			const router = await worker.createRouter({ mediaCodecs: [
				{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 } ] });
			const server = await worker.createWebRtcServer({
				listenInfos: [{ protocol: 'udp', ip: '127.0.0.1', port: 0 }] });
			const transport = await router.createWebRtcTransport({ webRtcServer: server });
			server.close();
			await worker.getResourceUsage();
			if (!transport.closed) throw new Error('transport still open after its WebRtcServer closed');
			worker.close();
			console.log('mediasoup-worker ' + worker.pid + ' started and answered');
		})().catch((err) => { console.error(err); process.exit(1); });`;
	const result = spawnSync(process.execPath, ['-e', probe], {
		cwd: projectDir,
		env: { ...process.env, MEDIASOUP_WORKER_BIN: bin },
		encoding: 'utf8',
		timeout: 30_000,
	});
	if (result.status !== 0) {
		fail(`the built worker does not start:\n${result.stdout}${result.stderr}`);
	}
	log(result.stdout.trim());
}

function main() {
	if (!fs.existsSync(path.join(mediasoupDir, 'package.json'))) {
		fail('node_modules/mediasoup is missing: run npm install first');
	}
	if (process.platform !== 'linux') {
		fail('this script builds against Debian\'s libraries and runs on Linux only');
	}
	const mediasoupVersion = JSON.parse(
		fs.readFileSync(path.join(mediasoupDir, 'package.json'), 'utf8')).version;

	ensureBuildPackages();

	const key = cacheKey(mediasoupVersion);
	const cachedBin = path.join(cacheRoot(), key, 'mediasoup-worker');

	if (fs.existsSync(cachedBin)) {
		log(`using cached worker ${cachedBin}`);
	} else {
		log(`building mediasoup-worker ${mediasoupVersion} against Debian's libraries (a few minutes)`);
		const started = Date.now();
		const buildRoot = path.join(os.tmpdir(), `switchyard-worker-build-${key}`);
		const built = buildWorker(buildRoot);
		fs.mkdirSync(path.dirname(cachedBin), { recursive: true });
		// Copy then rename, so an interrupted install never leaves half a binary in the cache.
		const partial = `${cachedBin}.partial-${process.pid}`;
		fs.copyFileSync(built, partial);
		fs.chmodSync(partial, 0o755);
		fs.renameSync(partial, cachedBin);
		fs.rmSync(buildRoot, { recursive: true, force: true });
		log(`built in ${Math.round((Date.now() - started) / 1000)} s, cached at ${cachedBin}`);
	}

	fs.mkdirSync(path.dirname(installedBin), { recursive: true });
	fs.rmSync(installedBin, { force: true });
	fs.copyFileSync(cachedBin, installedBin);
	fs.chmodSync(installedBin, 0o755);
	checkWorkerStarts(installedBin);
	log(`installed ${path.relative(projectDir, installedBin)}`);
}

main();
