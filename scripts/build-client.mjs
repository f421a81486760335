#!/usr/bin/env node
// Bundles the web client (src/web/client) with esbuild into dist/public:
// room.js (mediasoup-client and socket.io-client included: no CDN, nothing
// fetched at run time) and app.css. Run by `npm run build`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const projectDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const clientDir = path.join(projectDir, 'src', 'web', 'client');
const outDir = path.join(projectDir, 'dist', 'public');

fs.mkdirSync(outDir, { recursive: true });
await build({
	entryPoints: [path.join(clientDir, 'room.ts')],
	outfile: path.join(outDir, 'room.js'),
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
console.log(`[build-client] wrote ${path.relative(projectDir, outDir)}/room.js and app.css`);
