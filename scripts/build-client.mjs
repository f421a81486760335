#!/usr/bin/env node
// Bundles the web client (src/web/client) with esbuild into dist/public, one
// bundle per kind of page: room.js (the room page), lobby.js (the lobby's
// end-to-end encrypted links), signin.js (sign in / sign up) and calls.js (the
// signed-in calling pages), link.js (a call link's page), and e2ee-worker.js (the frame encryption worker); mediasoup-client and
// socket.io-client included: no CDN, nothing fetched at run time. Also copies
// app.css, and makes the client installable: pwa.js (on every page) registers
// sw.js, the service worker, stamped with a hash of this build so browsers
// take up a new one; manifest.webmanifest and the icons (build-icons.mjs).
// Run by `npm run build`.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ICON_BACKGROUND, ICONS, writeIcons } from './build-icons.mjs';

const projectDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const clientDir = path.join(projectDir, 'src', 'web', 'client');
const outDir = path.join(projectDir, 'dist', 'public');

const options = {
	outdir: outDir,
	bundle: true,
	format: 'iife',
	target: ['chrome100', 'firefox100', 'safari15'],
	minify: true,
	sourcemap: true,
	legalComments: 'none',
	logLevel: 'warning',
	define: { 'process.env.NODE_ENV': '"production"' },
};

fs.mkdirSync(outDir, { recursive: true });
await build({
	...options,
	entryPoints: {
		room: path.join(clientDir, 'roomPage.ts'),
		lobby: path.join(clientDir, 'lobby.ts'),
		'e2ee-worker': path.join(clientDir, 'e2ee', 'worker', 'frameWorker.ts'),
		signin: path.join(clientDir, 'accounts', 'signin.ts'),
		calls: path.join(clientDir, 'accounts', 'calls.ts'),
		link: path.join(clientDir, 'links', 'linkPage.ts'),
		pwa: path.join(clientDir, 'pwa.ts'),
	},
});
fs.copyFileSync(path.join(clientDir, 'app.css'), path.join(outDir, 'app.css'));
writeIcons(path.join(outDir, 'icons'));
fs.writeFileSync(path.join(outDir, 'manifest.webmanifest'), `${JSON.stringify(manifest(), null, '\t')}\n`);

// The service worker last: its version is a hash of everything above.
const hash = crypto.createHash('sha256');
for (const file of fs.readdirSync(outDir, { recursive: true }).map(String).sort()) {
	if (!file.startsWith('sw.js') && fs.statSync(path.join(outDir, file)).isFile()) {
		hash.update(file).update(fs.readFileSync(path.join(outDir, file)));
	}
}
await build({
	...options,
	entryPoints: { sw: path.join(clientDir, 'sw', 'serviceWorker.ts') },
	define: { ...options.define, SW_VERSION: JSON.stringify(hash.digest('hex').slice(0, 16)) },
});
console.log(`[build-client] wrote ${path.relative(projectDir, outDir)}/room.js, lobby.js, e2ee-worker.js, signin.js, calls.js, link.js, pwa.js, sw.js, app.css, manifest.webmanifest and icons/`);

/** The web app manifest: what an installed Switchyard is called, looks like and opens. */
function manifest() {
	return {
		id: '/',
		name: 'Switchyard',
		short_name: 'Switchyard',
		description: 'Video calls from the browser, and calls between accounts by handle.',
		start_url: '/',
		scope: '/',
		display: 'standalone',
		background_color: '#0f1115',
		theme_color: ICON_BACKGROUND,
		icons: ICONS.filter(({ purpose }) => purpose !== 'apple').map(({ file, size, purpose }) => ({
			src: `/assets/icons/${file}`, sizes: `${size}x${size}`, type: 'image/png', purpose,
		})).concat({ src: '/assets/icons/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }),
	};
}
