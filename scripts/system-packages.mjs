#!/usr/bin/env node
// Prints the Debian packages the project needs on a machine that builds and
// tests it, one line, for apt-get install. .ci/run and the Dockerfile use it;
// scripts/build-worker.mjs installs its own subset when missing.
import { pathToFileURL } from 'node:url';

export const packages = {
	// Building the mediasoup worker against Debian's libraries.
	worker: ['meson', 'ninja-build', 'pkg-config', 'g++', 'patch', 'libssl-dev', 'libuv1-dev', 'libsrtp2-dev',
		'libusrsctp-dev', 'libabsl-dev', 'nlohmann-json3-dev'],
	// Tests: DTLS certificates for mediasoup's suite, a real Prometheus for the
	// dashboards, Debian's chromium for the browser tests, coturn for TURN.
	test: ['openssl', 'ca-certificates', 'prometheus', 'chromium', 'coturn'],
};

function main() {
	const groups = process.argv.slice(2);
	const selected = groups.length > 0 ? groups : Object.keys(packages);
	for (const group of selected) {
		if (!packages[group]) {
			console.error(`unknown group ${group}; known: ${Object.keys(packages).join(', ')}`);
			process.exit(1);
		}
	}
	console.log(selected.flatMap((group) => packages[group]).join(' '));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
	main();
}
