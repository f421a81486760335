import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PUBLIC_DIR } from '../../src/web';
import { pollUntil } from '../helpers/poll';
import { newParticipant, type Participant } from './browser';
import { browserSuite } from './suite';

// Installable (issue 29): the manifest, the service worker on every page,
// network first so a new bundle is used at the next load, and the offline
// page. The node serves a copy of the build, which the test changes as an
// upgrade of the node would.

type Registration = { scope: string; script: string | null; controlled: boolean };
const registration = (p: Participant) => p.page.evaluate<Registration>(`navigator.serviceWorker.ready.then((r) => ({
	scope: r.scope, script: r.active && r.active.scriptURL, controlled: navigator.serviceWorker.controller !== null,
}))`);

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(bytes: Buffer): string {
	expect(bytes.subarray(1, 4).toString('ascii')).toBe('PNG');
	expect(bytes.subarray(12, 16).toString('ascii')).toBe('IHDR');
	return `${bytes.readUInt32BE(16)}x${bytes.readUInt32BE(20)}`;
}

describe('the web client installs, upgrades at the next load and says when it is offline', () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-build-'));
	// NOTE: before the suite's own beforeAll, which starts the node on this copy.
	beforeAll(() => fs.cpSync(PUBLIC_DIR, dir, { recursive: true }));
	afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
	const suite = browserSuite({}, { publicDir: dir });
	const { reported } = suite;
	const participant = async (name: string) => {
		const p = await newParticipant(suite.browser, name);
		suite.open.push(p);
		return p;
	};

	test('the manifest is linked, valid to the browser, installable, and its icons are the sizes it says', reported(async () => {
		const p = await participant('Ada');
		await p.page.goto(`${suite.node.url}/`);
		await registration(p);
		const cdp = await p.context.newCDPSession(p.page);
		const manifest = await cdp.send('Page.getAppManifest') as { url: string; errors: { message: string }[]; data?: string };
		expect(manifest.url).toBe(`${suite.node.url}/assets/manifest.webmanifest`);
		expect(manifest.errors).toEqual([]);
		const data = JSON.parse(manifest.data!) as { name: string; display: string; start_url: string; icons: { src: string; sizes: string; type: string; purpose: string }[] };
		expect(data).toMatchObject({ name: 'Switchyard', display: 'standalone', start_url: '/' });
		// NOTE: a test's browser context is an incognito one, which chromium never installs from: that one reason aside, none.
		const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
		expect(installabilityErrors.filter((error) => error.errorId !== 'in-incognito')).toEqual([]);
		const pngs = data.icons.filter((icon) => icon.type === 'image/png');
		expect(pngs.map((icon) => `${icon.sizes} ${icon.purpose}`)).toEqual(['192x192 any', '512x512 any', '512x512 maskable']);
		for (const icon of pngs) {
			const res = await fetch(new URL(icon.src, suite.node.url));
			expect([icon.src, res.headers.get('content-type')]).toEqual([icon.src, 'image/png']);
			expect(pngSize(Buffer.from(await res.arrayBuffer()))).toBe(icon.sizes);
		}
		const served = await fetch(`${suite.node.url}/assets/manifest.webmanifest`);
		expect(served.headers.get('content-type')).toMatch(/^application\/manifest\+json/);
	}));

	test('the service worker registers, for every page, on the lobby and on the room page', reported(async () => {
		for (const page of ['/', '/room/install-check']) {
			const p = await participant(`on ${page}`);
			await p.page.goto(`${suite.node.url}${page}`);
			expect(await registration(p)).toMatchObject({ scope: `${suite.node.url}/`, script: `${suite.node.url}/assets/sw.js` });
		}
	}));

	test('after the node serves a new bundle, the next load uses it, through the worker', reported(async () => {
		const p = await participant('Bea');
		const bundles: { build: string | undefined; fromServiceWorker: boolean }[] = [];
		p.page.on('response', (response) => {
			if (new URL(response.url()).pathname === '/assets/lobby.js') {
				bundles.push({ build: undefined, fromServiceWorker: response.fromServiceWorker() });
			}
		});
		await p.page.goto(`${suite.node.url}/`);
		await registration(p);
		await pollUntil('the worker controls the page', async () => (await registration(p)).controlled);
		await p.page.goto(`${suite.node.url}/`);
		const build = () => p.page.evaluate<string | undefined>('document.documentElement.dataset.build');
		expect(await build()).toBeUndefined();
		// The upgrade: the node's bundle changes under the same name.
		fs.appendFileSync(path.join(dir, 'lobby.js'), '\n;document.documentElement.dataset.build = "next";\n');
		await p.page.goto(`${suite.node.url}/`);
		expect(await build()).toBe('next');
		expect(bundles.map((b) => b.fromServiceWorker)).toEqual([false, true, true]);
	}));

	test('offline, a page is the offline page, and Try again loads the page asked for once back online', reported(async () => {
		const p = await participant('Cy');
		await p.page.goto(`${suite.node.url}/`);
		await pollUntil('the worker controls the page', async () => (await registration(p)).controlled);
		await p.context.setOffline(true);
		await p.page.goto(`${suite.node.url}/room/offline-check`);
		expect(await p.page.textContent('h1')).toBe('You are offline');
		// Its style came from the worker's cache too.
		expect(await p.page.evaluate<string>('getComputedStyle(document.body).backgroundColor')).toBe('rgb(15, 17, 21)');
		await p.context.setOffline(false);
		await p.page.getByRole('link', { name: 'Try again' }).click();
		await pollUntil('the room page is back', async () => (await p.page.locator('#app').count()) === 1);
		expect(p.page.url()).toBe(`${suite.node.url}/room/offline-check`);
	}));
});
