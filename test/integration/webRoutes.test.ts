import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express, { type Router } from 'express';
import { errorHandler, notFoundHandler } from '../../src/http';
import { PAGE_CSP, webRoutes } from '../../src/web';
import { testLogger } from '../helpers/logger';

/** The GET routes a router registers, read from its express 5 stack (a static folder is "/folder/*"). */
function pageRoutesOf(router: Router): string[] {
	type Layer = { route?: { path: unknown; methods: Record<string, boolean> }; rawPath?: unknown; name: string };
	return (router.stack as unknown as Layer[]).flatMap((layer) => {
		if (layer.route?.methods.get) {
			return [String(layer.route.path)];
		}
		return layer.name === 'serveStatic' ? [`${String(layer.rawPath)}/*`] : [];
	});
}

describe('web client routes', () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-public-'));
	let server: http.Server;
	let url = '';

	beforeAll(async () => {
		const app = express();
		app.use(webRoutes({ publicDir: dir }));
		// As src/app.ts: what no route answers is the node's JSON 404.
		app.use(notFoundHandler, errorHandler(testLogger().logger));
		server = http.createServer(app);
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(() => {
		server.close();
		fs.rmSync(dir, { recursive: true, force: true });
	});

	test('without a built bundle: a clear 503 page, not a crash', async () => {
		const res = await fetch(`${url}/room/standup?name=Ada`);
		expect(res.status).toBe(503);
		expect(await res.text()).toContain('npm run build');
	});

	test('with the bundle: the lobby, the room page and the assets', async () => {
		fs.writeFileSync(path.join(dir, 'room.js'), '/* bundle */');
		fs.writeFileSync(path.join(dir, 'app.css'), 'body{}');
		const lobby = await fetch(`${url}/`);
		expect(lobby.status).toBe(200);
		expect(await lobby.text()).toContain('<form');
		const room = await fetch(`${url}/room/standup?name=Ada`);
		expect(room.status).toBe(200);
		const html = await room.text();
		expect(html).toContain('data-room-id="standup"');
		expect(html).toContain('/assets/room.js');
		expect((await fetch(`${url}/assets/room.js`)).status).toBe(200);
		expect((await fetch(`${url}/assets/../package.json`)).status).toBe(404);
	});

	test('the calling pages: 503 without their bundle; with it, shells that need no token, behind a strict CSP', async () => {
		const pages = ['/signin', '/signup', '/directory?q=ada', '/u/ada', '/settings', '/history', '/links'];
		for (const page of pages) {
			expect((await fetch(`${url}${page}`)).status).toBe(503);
		}
		fs.writeFileSync(path.join(dir, 'signin.js'), '/* bundle */');
		fs.writeFileSync(path.join(dir, 'calls.js'), '/* bundle */');
		for (const page of pages) {
			const res = await fetch(`${url}${page}`);
			expect(res.status).toBe(200);
			expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
			const html = await res.text();
			expect(html).toContain(page.startsWith('/sign') ? '/assets/signin.js' : '/assets/calls.js');
			// The signed-in pages carry the call screens.
			expect(html.includes('id="incoming"') && html.includes('id="call-view"')).toBe(!page.startsWith('/sign'));
		}
		expect(await (await fetch(`${url}/signup`)).text()).toContain('name="displayName"');
		expect(await (await fetch(`${url}/signin`)).text()).not.toContain('name="displayName"');
	});

	test('a call link\'s page is one and the same shell for any id, well formed or not: the page tells nothing about a link', async () => {
		expect((await fetch(`${url}/l/AAAAAAAAAAAAAAAAAAAAAA`)).status).toBe(503);
		fs.writeFileSync(path.join(dir, 'link.js'), '/* bundle */');
		const pages = await Promise.all(['AAAAAAAAAAAAAAAAAAAAAA', 'Bq3x_-0123456789abcdef', encodeURIComponent('<script>'), 'x'.repeat(200)].map(async (id) => {
			const res = await fetch(`${url}/l/${id}`);
			return `${res.status} ${res.headers.get('cache-control')} ${await res.text()}`;
		}));
		expect(new Set(pages).size).toBe(1);
		expect(pages[0]).toMatch(/^200 no-store /);
		expect(pages[0]).toContain('/assets/link.js');
	});

	test('the profile page takes a handle (lower-cased); anything else goes to the directory; the query is escaped', async () => {
		fs.writeFileSync(path.join(dir, 'calls.js'), '/* bundle */');
		expect(await (await fetch(`${url}/u/Ada_1`)).text()).toContain('data-handle="ada_1"');
		for (const bad of ['a', encodeURIComponent('<script>'), 'x'.repeat(31)]) {
			const res = await fetch(`${url}/u/${bad}`, { redirect: 'manual' });
			expect(res.status).toBe(303);
			expect(res.headers.get('location')).toBe('/directory');
		}
		const html = await (await fetch(`${url}/directory?q=${encodeURIComponent('"><script>')}`)).text();
		expect(html).toContain('value="&quot;&gt;&lt;script&gt;"');
		expect(html).not.toContain('"><script>');
	});

	test('installable: the pages link the manifest and the worker; assets are revalidated; the worker may control every page', async () => {
		fs.writeFileSync(path.join(dir, 'room.js'), '/* bundle */');
		fs.writeFileSync(path.join(dir, 'sw.js'), '/* worker */');
		const html = await (await fetch(`${url}/room/standup`)).text();
		expect(html).toContain('<link rel="manifest" href="/assets/manifest.webmanifest">');
		expect(html).toContain('<script src="/assets/pwa.js" defer></script>');
		expect(PAGE_CSP).toContain("manifest-src 'self'");
		expect(PAGE_CSP).toContain("worker-src 'self'");
		const bundle = await fetch(`${url}/assets/room.js`);
		expect(bundle.headers.get('cache-control')).toBe('no-cache');
		expect(bundle.headers.get('service-worker-allowed')).toBeNull();
		// Revalidated, not downloaded again: an unchanged bundle is a 304 to its ETag.
		expect(bundle.headers.get('etag')).toBeTruthy();
		const worker = await fetch(`${url}/assets/sw.js`);
		expect(worker.headers.get('service-worker-allowed')).toBe('/');
		expect(worker.headers.get('cache-control')).toBe('no-cache');
		// The offline page needs nothing built, and runs no script.
		const offline = await fetch(`${url}/assets/offline.html`);
		expect([offline.status, offline.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
		const text = await offline.text();
		expect(text).toContain('You are offline');
		expect(text).not.toContain('<script');
	});

	test("every page route answers with the one PAGE_CSP (frame-ancestors 'none'), built or not", async () => {
		expect(PAGE_CSP).toMatch(/(^|; )frame-ancestors 'none'(;|$)/);
		const routes = pageRoutesOf(webRoutes());
		// Guards against a stack reader that finds nothing.
		expect(routes).toEqual(expect.arrayContaining(['/', '/room', '/room/:roomId', '/signin', '/u/:handle', '/assets/*']));
		const examples: Record<string, string[]> = {
			'/room': ['/room?name=Ada&room=standup', '/room?room=%3Cbad%3E'],
			'/room/:roomId': ['/room/standup?name=Ada', `/room/${encodeURIComponent('<bad>')}`],
			'/u/:handle': ['/u/ada', '/u/a'],
			'/directory': ['/directory?q=ada'],
			'/l/:id': ['/l/AAAAAAAAAAAAAAAAAAAAAA', '/l/%3Cbad%3E'],
			'/assets/*': ['/assets/app.css', '/assets/missing.js'],
		};
		const bundles = ['room.js', 'signin.js', 'calls.js', 'link.js', 'app.css'];
		const answers: { url: string; status: number; csp: string | null }[] = [];
		for (const builtNow of [true, false]) {
			for (const bundle of bundles) {
				if (builtNow) {
					fs.writeFileSync(path.join(dir, bundle), '/* bundle */');
				} else {
					fs.rmSync(path.join(dir, bundle), { force: true });
				}
			}
			for (const page of routes.flatMap((route) => examples[route] ?? [route])) {
				const res = await fetch(`${url}${page}`, { redirect: 'manual' });
				answers.push({ url: page, status: res.status, csp: res.headers.get('content-security-policy') });
			}
		}
		// Pages (200, or 503 unbuilt), redirects (303) and assets (200, or the 404 of a missing one) alike.
		expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200, 303, 404, 503]));
		expect(answers.filter((a) => a.csp !== PAGE_CSP)).toEqual([]);
	});

	test('the lobby form redirects to the room; bad room ids go back to the lobby; names are escaped', async () => {
		const form = await fetch(`${url}/room?name=Ada&room=standup`, { redirect: 'manual' });
		expect(form.status).toBe(303);
		expect(form.headers.get('location')).toBe('/room/standup?name=Ada');
		const bad = await fetch(`${url}/room/${encodeURIComponent('<script>')}`, { redirect: 'manual' });
		expect(bad.status).toBe(303);
		expect(bad.headers.get('location')).toBe('/');
	});
});
