#!/usr/bin/env node
// Bundles the web client (src/web/client) with esbuild into dist/public, one
// bundle per kind of page: room.js (the room page), lobby.js (the lobby's
// end-to-end encrypted links), signin.js (sign in / sign up) and calls.js (the
// signed-in calling pages), link.js (a call link's page), and e2ee-worker.js (the frame encryption worker); mediasoup-client and
// socket.io-client included: no CDN, nothing fetched at run time. Also copies
// app.css. Run by `npm run build`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const projectDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const clientDir = path.join(projectDir, 'src', 'web', 'client');
const outDir = path.join(projectDir, 'dist', 'public');

fs.mkdirSync(outDir, { recursive: true });
await build({
	entryPoints: {
		room: path.join(clientDir, 'roomPage.ts'),
		lobby: path.join(clientDir, 'lobby.ts'),
		'e2ee-worker': path.join(clientDir, 'e2ee', 'worker', 'frameWorker.ts'),
		signin: path.join(clientDir, 'accounts', 'signin.ts'),
		calls: path.join(clientDir, 'accounts', 'calls.ts'),
		link: path.join(clientDir, 'links', 'linkPage.ts'),
	},
	outdir: outDir,
	bundle: true,
	format: 'iife',
	target: ['chrome100', 'firefox100', 'safari15'],
	minify: true,
	sourcemap: true,
	legalComments: 'none',
	logLevel: 'warning',
	define: { 'process.env.NODE_ENV': '"production"' },
});
fs.copyFileSync(path.join(clientDir, 'app.css'), path.join(outDir, 'app.css'));
console.log(`[build-client] wrote ${path.relative(projectDir, outDir)}/room.js, lobby.js, e2ee-worker.js, signin.js, calls.js, link.js and app.css`);
