// The web app's icons, drawn here so the repository holds no binary: a
// switch of two rails (one track, one branching off it) in white on the
// accent colour. PNGs at the sizes installers ask for (192 and 512 for the
// manifest, 180 for iOS's home screen, a 512 maskable one whose drawing keeps
// to the inner safe circle) and the same drawing as SVG for the tab.
// Deterministic: the same bytes on every build. Used by build-client.mjs.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

/** The background, and the theme colour of the manifest and pages. */
export const ICON_BACKGROUND = '#2e6be6';
const BACKGROUND = [0x2e, 0x6b, 0xe6];
const RAIL = [0xff, 0xff, 0xff];

// The rails in a unit square: the straight track, and the branch leaving it.
const SEGMENTS = [
	[[0.18, 0.64], [0.82, 0.64]],
	[[0.36, 0.64], [0.6, 0.4]],
	[[0.6, 0.4], [0.82, 0.4]],
];
const RAIL_WIDTH = 0.085;

function distanceToSegment(x, y, [[ax, ay], [bx, by]]) {
	const dx = bx - ax;
	const dy = by - ay;
	const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
	return Math.hypot(x - (ax + t * dx), y - (ay + t * dy));
}

/**
 * RGBA pixels of the icon at `size`. `bleed` fills the whole square (the
 * platform rounds it: maskable and iOS icons) and `scale` shrinks the rails
 * toward the centre (a maskable icon keeps to the inner circle).
 */
function draw(size, { bleed, scale }) {
	const pixels = Buffer.alloc(size * size * 4);
	const corner = bleed ? 0 : 0.2;
	for (let py = 0; py < size; py++) {
		for (let px = 0; px < size; px++) {
			const x = (px + 0.5) / size;
			const y = (py + 0.5) / size;
			// Coverage of the rounded square (anti-aliased over one pixel).
			const qx = Math.max(Math.abs(x - 0.5) - (0.5 - corner), 0);
			const qy = Math.max(Math.abs(y - 0.5) - (0.5 - corner), 0);
			const square = Math.min(1, Math.max(0, (corner - Math.hypot(qx, qy)) * size + 0.5));
			const ux = (x - 0.5) / scale + 0.5;
			const uy = (y - 0.5) / scale + 0.5;
			const d = Math.min(...SEGMENTS.map((segment) => distanceToSegment(ux, uy, segment))) * scale;
			const rail = Math.min(1, Math.max(0, (RAIL_WIDTH * scale / 2 - d) * size + 0.5));
			const at = (py * size + px) * 4;
			for (let c = 0; c < 3; c++) {
				pixels[at + c] = Math.round(BACKGROUND[c] + (RAIL[c] - BACKGROUND[c]) * rail);
			}
			pixels[at + 3] = Math.round(255 * (bleed ? 1 : square));
		}
	}
	return pixels;
}

function chunk(type, data) {
	const length = Buffer.alloc(4);
	length.writeUInt32BE(data.length);
	const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(zlib.crc32(body));
	return Buffer.concat([length, body, crc]);
}

/** A PNG (8-bit RGBA, no filter) of `size` x `size` pixels. */
export function png(size, shape = { bleed: false, scale: 1 }) {
	const pixels = draw(size, shape);
	const header = Buffer.alloc(13);
	header.writeUInt32BE(size, 0);
	header.writeUInt32BE(size, 4);
	header.set([8, 6, 0, 0, 0], 8);
	const rows = Buffer.alloc(size * (size * 4 + 1));
	for (let y = 0; y < size; y++) {
		pixels.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
	}
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		chunk('IHDR', header),
		chunk('IDAT', zlib.deflateSync(rows, { level: 9 })),
		chunk('IEND', Buffer.alloc(0)),
	]);
}

function svg() {
	const lines = SEGMENTS.map(([[ax, ay], [bx, by]]) => `M${ax * 100} ${ay * 100}L${bx * 100} ${by * 100}`).join('');
	return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><rect width="100" height="100" rx="20" fill="${ICON_BACKGROUND}"/>`
		+ `<path d="${lines}" fill="none" stroke="#fff" stroke-width="${RAIL_WIDTH * 100}" stroke-linecap="round" stroke-linejoin="round"/></svg>\n`;
}

/** The icons the manifest and pages name, written under `dir`. */
export const ICONS = [
	{ file: 'icon-192.png', size: 192, purpose: 'any', shape: { bleed: false, scale: 1 } },
	{ file: 'icon-512.png', size: 512, purpose: 'any', shape: { bleed: false, scale: 1 } },
	{ file: 'icon-maskable-512.png', size: 512, purpose: 'maskable', shape: { bleed: true, scale: 0.66 } },
	// Not in the manifest: iOS's home screen (<link rel="apple-touch-icon">) rounds it itself.
	{ file: 'apple-touch-icon.png', size: 180, purpose: 'apple', shape: { bleed: true, scale: 0.85 } },
];

export function writeIcons(dir) {
	fs.mkdirSync(dir, { recursive: true });
	for (const { file, size, shape } of ICONS) {
		fs.writeFileSync(path.join(dir, file), png(size, shape));
	}
	fs.writeFileSync(path.join(dir, 'icon.svg'), svg());
}
