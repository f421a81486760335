#!/usr/bin/env node
// The Debian packages the project needs, by what needs them.
//
//   node scripts/system-packages.mjs [GROUP...]           prints them, one line, for apt-get install
//   node scripts/system-packages.mjs --ensure GROUP...    installs the missing ones when run as root;
//                                                        otherwise stops with the exact apt-get line
//
// .ci/run and the Dockerfile print them; `npm test`, `npm run test:e2e` and
// `npm run test:worker` ensure their groups first (package.json's pre-scripts),
// and scripts/build-worker.mjs ensures the worker group, so the README's two
// commands are all the set-up a fresh machine needs.
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

export const packages = {
	// Building the mediasoup worker against Debian's libraries.
	worker: ['meson', 'ninja-build', 'pkg-config', 'g++', 'patch', 'libssl-dev', 'libuv1-dev', 'libsrtp2-dev',
		'libusrsctp-dev', 'libabsl-dev', 'nlohmann-json3-dev'],
	// npm test and npm run test:worker: DTLS certificates for mediasoup's suite,
	// a real Prometheus for the dashboards, PostgreSQL (initdb, pg_ctl) and
	// Redis (redis-server; redis-cli comes with it) for the run's throwaway
	// servers (test/globalSetup.js), and nginx for the load balancer in front of
	// a fleet (test/cluster/nginx.test.ts starts its own: test/helpers/nginxServer.ts).
	// Debian's own cluster on 5432, its redis service on 6379 and its nginx
	// service on 80 are left alone. nginx: the plain package, whose binary has
	// the http proxy and WebSocket upgrades (nginx-light only adds a module).
	test: ['openssl', 'ca-certificates', 'prometheus', 'postgresql', 'redis-server', 'nginx'],
	// npm run test:e2e: Debian's chromium for the browser tests, coturn for TURN,
	// openssl for the HTTPS deployment test, PostgreSQL for the store-outage test.
	e2e: ['chromium', 'coturn', 'openssl', 'ca-certificates', 'postgresql'],
};

/** The packages of these groups, each once, in order. */
export function packagesOf(groups) {
	for (const group of groups) {
		if (!packages[group]) {
			throw new Error(`unknown package group ${group}; known: ${Object.keys(packages).join(', ')}`);
		}
	}
	return [...new Set(groups.flatMap((group) => packages[group]))];
}

/** The installed version of a Debian package, or undefined. */
export function dpkgVersion(pkg) {
	const result = spawnSync('dpkg-query', ['-W', '-f=${Status}|${Version}', pkg], { encoding: 'utf8' });
	if (result.status !== 0) {
		return undefined;
	}
	const [status, version] = result.stdout.split('|');
	return status.endsWith('installed') && !status.includes('not-installed') ? version : undefined;
}

/**
 * Installs what is missing of `wanted`, for `what` (named in messages). As root
 * it runs apt-get; otherwise it prints the exact command and exits 1.
 */
export function ensurePackages(wanted, what, tag = 'system-packages') {
	const missing = wanted.filter((pkg) => !dpkgVersion(pkg));
	if (missing.length === 0) {
		return;
	}
	const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
	if (process.getuid?.() !== 0) {
		process.stderr.write(`[${tag}] error: missing Debian packages ${what}: ${missing.join(', ')}\n` +
			`run as root: ${command}\n`);
		process.exit(1);
	}
	process.stdout.write(`[${tag}] installing Debian packages ${what}: ${missing.join(' ')}\n`);
	const result = spawnSync('sh', ['-c', command], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
	if (result.status !== 0) {
		process.stderr.write(`[${tag}] error: ${command} exited with ${result.status ?? result.signal}\n`);
		process.exit(1);
	}
}

function main() {
	const args = process.argv.slice(2);
	const ensure = args[0] === '--ensure';
	const groups = ensure ? args.slice(1) : args;
	let wanted;
	try {
		wanted = packagesOf(groups.length > 0 ? groups : Object.keys(packages));
	} catch (error) {
		console.error(error.message);
		process.exit(1);
	}
	if (ensure) {
		ensurePackages(wanted, `for ${groups.join(', ') || 'everything'}`);
	} else {
		console.log(wanted.join(' '));
	}
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
	main();
}
