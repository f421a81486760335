import fs from 'node:fs';
import { callable } from '../helpers/accounts';
import { pollUntil } from '../helpers/poll';
import type { CallKeysReport } from '../../src/web/client/hookTypes';
import { e2ee, hook, newParticipant, receivesFrom, screenshotPath, stats, type Participant } from './browser';
import { callFromDirectory, online, signInThroughPage } from './pages';
import { browserSuite } from './suite';

/** Small captures: three participants and the node share a 2-core machine. */
const CAPTURE = 'w=160&h=120';
const SAFETY_CODE = /^\d{5}( \d{5}){5}$/;
/** In a page: Ada's device as this browser keeps it in IndexedDB (e2ee/identity.ts). */
const DEVICE_OF_ADA = `new Promise((resolve, reject) => {
	const open = indexedDB.open('switchyard-e2ee');
	open.onerror = () => reject(open.error);
	open.onsuccess = () => {
		const req = open.result.transaction('devices').objectStore('devices').get('ada');
		req.onsuccess = () => resolve(req.result);
		req.onerror = () => reject(req.error);
	};
})`;

type Person = Participant & { handle: string; wrapped: Set<string> };

// Calls between accounts are end-to-end encrypted by default (docs/e2ee.md):
// each device's identity key, sender keys wrapped for each device and
// relayed as opaque bytes, a new one on every join and leave, and a safety
// code that shows a swapped key.
describe('end-to-end encrypted calls between accounts in a real browser', () => {
	const suite = browserSuite({
		media: { workers: 2 }, log: { level: 'debug' },
		accounts: { signupsPerHour: 100 }, calls: { invitesPerMinute: 100 },
	});
	const { open, reported } = suite;
	afterEach(() => {
		suite.node.app.keys.withhold = undefined;
	});

	/**
	 * A person anyone may call, signed in on the directory page of their own
	 * browser; the wrapped keys its page sends or gets are kept. `old`: a
	 * browser without RTCRtpScriptTransform.
	 */
	async function person(handle: string, displayName: string, { old = false } = {}): Promise<Person> {
		const p: Person = { ...await newParticipant(suite.browser, displayName), handle, wrapped: new Set() };
		open.push(p);
		if (old) {
			await p.page.addInitScript(() => {
				delete (globalThis as { RTCRtpScriptTransform?: unknown }).RTCRtpScriptTransform;
			});
		}
		p.page.on('websocket', (ws) => {
			const keep = ({ payload }: { payload: string | Buffer }) => {
				for (const match of String(payload).matchAll(/"wrapped":"([A-Za-z0-9_-]+)"/g)) {
					p.wrapped.add(match[1]!);
				}
			};
			ws.on('framesent', keep);
			ws.on('framereceived', keep);
		});
		await callable(suite.node, handle, displayName);
		await signInThroughPage(p, suite.node.url, handle, `/directory?${CAPTURE}`);
		await online(p);
		return p;
	}

	async function answer(p: Person): Promise<void> {
		await p.page.waitForSelector('#incoming', { state: 'visible', timeout: 10000 });
		await p.page.click('#accept');
	}

	async function inCall(...people: Person[]): Promise<string[]> {
		for (const p of people) {
			await p.page.waitForSelector('#call-view', { state: 'visible', timeout: 10000 });
			await pollUntil(`${p.name} is in the call`, async () => (await hook(p).catch(() => undefined))?.state === 'connected', { timeoutMs: 30000, intervalMs: 250 });
		}
		return Promise.all(people.map(async (p) => (await hook(p)).peerId));
	}

	async function keys(p: Person): Promise<CallKeysReport> {
		const report = await e2ee(p);
		expect(report.enabled).toBe(true);
		return report.call!;
	}

	async function hangUp(...people: Person[]): Promise<void> {
		await people[0]!.page.click('#leave');
		for (const p of people) {
			await p.page.waitForSelector('#call-view', { state: 'hidden', timeout: 10000 });
		}
	}

	test('two accounts call: encrypted by default, both decode, one safety code; nothing the node stores or logs holds a key; a known device with another key is warned about', reported(async () => {
		const ada = await person('ada', 'Ada Lovelace');
		const bob = await person('bob', 'Bob Kahn');

		await callFromDirectory(ada, suite.node.url, 'bob', '#call-video');
		await bob.page.waitForSelector('#incoming', { state: 'visible', timeout: 10000 });
		expect(await bob.page.textContent('#incoming-e2ee')).toBe('End-to-end encrypted');
		expect(await bob.page.isEnabled('#accept')).toBe(true);
		await answer(bob);
		const [adaId, bobId] = await inCall(ada, bob);
		await Promise.all([receivesFrom(ada, [bobId!]), receivesFrom(bob, [adaId!])]);

		// Each sealed with a key of its own, which the other has; the call says so, with one safety code.
		const [adaKeys, bobKeys] = await Promise.all([keys(ada), keys(bob)]);
		expect(adaKeys.sendKid).toBeDefined();
		expect(adaKeys.sendKid).not.toBe(bobKeys.sendKid);
		expect([adaKeys.keysFrom, bobKeys.keysFrom]).toEqual([[bobId], [adaId]]);
		expect(adaKeys.safetyCode).toMatch(SAFETY_CODE);
		expect(bobKeys.safetyCode).toBe(adaKeys.safetyCode);
		for (const p of [ada, bob]) {
			expect(await p.page.isVisible('#call-view #e2ee')).toBe(true);
			expect(await p.page.textContent('#call-view #safety-code')).toBe(adaKeys.safetyCode);
			expect([adaKeys.warnings, adaKeys.notes, bobKeys.warnings, bobKeys.notes]).toEqual([[], [], [], []]);
		}
		await bob.page.screenshot({ path: screenshotPath('call-e2ee.png') });

		// The device's private key: kept in IndexedDB, usable, never readable.
		const privateKey = await ada.page.evaluate(`(async () => {
			const device = await ${DEVICE_OF_ADA};
			const exported = await crypto.subtle.exportKey('pkcs8', device.privateKey).then(() => 'exported', (error) => error.name);
			return { extractable: device.privateKey.extractable, exported, usages: device.privateKey.usages };
		})()`);
		expect(privateKey).toEqual({ extractable: false, exported: 'InvalidAccessError', usages: ['deriveBits'] });

		// The wrapped keys went through the node: none is in its database or its (debug) log, in text or in bytes.
		const wrapped = [...new Set([...ada.wrapped, ...bob.wrapped])];
		expect(wrapped.length).toBeGreaterThanOrEqual(2);
		const stored = Buffer.concat(['', '-wal', '-journal'].map((suffix) => suite.node.storePath + suffix)
			.filter((file) => fs.existsSync(file)).map((file) => fs.readFileSync(file)));
		expect(stored.length).toBeGreaterThan(0);
		const logged = JSON.stringify(suite.node.logLines());
		expect(suite.node.logLines().some((line) => line.level === 'debug')).toBe(true);
		const found = wrapped.filter((w) => stored.includes(w) || stored.includes(Buffer.from(w, 'base64url')) || logged.includes(w));
		expect(found).toEqual([]);
		await hangUp(ada, bob);

		// The server swaps Ada's key (here: her own session publishes another under her device id).
		// Bob's browser knew her device with its real key: it warns, and the safety codes differ.
		// NOTE: each page load publishes the device's real key again: swapped once Ada's page has, before she calls.
		await ada.page.goto(`${suite.node.url}/u/bob`);
		await online(ada);
		await ada.page.evaluate(`(async () => {
			const mine = await ${DEVICE_OF_ADA};
			const session = JSON.parse(localStorage.getItem('switchyard.session'));
			const auth = { Authorization: 'Bearer ' + session.token };
			for (let i = 0; ; i++) {
				const { devices } = await (await fetch('/api/me/devices', { headers: auth })).json();
				if (devices.some((d) => d.current && d.deviceId === mine.deviceId && d.publicKey === mine.publicKey)) {
					break;
				}
				if (i > 50) {
					throw new Error('the page did not publish its key');
				}
				await new Promise((resolve) => setTimeout(resolve, 100));
			}
			const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
			const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
			const publicKey = btoa(String.fromCharCode(...raw)).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
			const res = await fetch('/api/me/devices/' + mine.deviceId, {
				method: 'PUT', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ publicKey }),
			});
			if (res.status !== 204) {
				throw new Error('PUT device: ' + res.status);
			}
		})()`);
		await ada.page.click('#call-audio');
		await answer(bob);
		await inCall(ada, bob);
		const warned = await pollUntil('Bob is warned', async () => ((await keys(bob)).warnings.length > 0 ? keys(bob) : undefined), { timeoutMs: 10000 });
		expect(warned.warnings).toEqual([expect.stringContaining('The security key of @ada\'s device changed')]);
		expect(await bob.page.getAttribute('#call-view #notice', 'data-kind')).toBe('warning');
		expect(await bob.page.textContent('#call-view #notice')).toContain('Compare the safety code');
		await bob.page.screenshot({ path: screenshotPath('call-e2ee-key-changed.png') });
		const adaCode = await pollUntil('Ada has a safety code', async () => (await keys(ada)).safetyCode);
		expect(warned.safetyCode).toMatch(SAFETY_CODE);
		expect(warned.safetyCode).not.toBe(adaCode);
		expect((await keys(ada)).warnings).toEqual([]);
		await hangUp(ada, bob);

		// Ada on another browser (a new device of hers): Bob's page notes it.
		const laptop: Person = { ...await newParticipant(suite.browser, 'Ada\'s laptop'), handle: 'ada', wrapped: new Set() };
		open.push(laptop);
		await signInThroughPage(laptop, suite.node.url, 'ada', `/u/bob?${CAPTURE}`);
		await online(laptop);
		await laptop.page.click('#call-audio');
		await answer(bob);
		await inCall(laptop, bob);
		const noted = await pollUntil('Bob is told of the new device', async () => ((await keys(bob)).notes.length > 0 ? keys(bob) : undefined), { timeoutMs: 10000 });
		expect([noted.notes, noted.warnings]).toEqual([['@ada is on a device you have not seen before'], []]);
		await hangUp(laptop, bob);
	}));

	test('a device the node gives no sender keys (the withhold hook) gets the bytes and decodes no frame; the other still decodes it; a browser that cannot encrypt is told why', reported(async () => {
		const cleo = await person('cleo', 'Cleo');
		const dina = await person('dina', 'Dina');
		suite.node.app.keys.withhold = (_from, to) => to.handle === 'dina';
		await callFromDirectory(cleo, suite.node.url, 'dina', '#call-video');
		await answer(dina);
		const [cleoId, dinaId] = await inCall(cleo, dina);
		await receivesFrom(cleo, [dinaId!]);
		const fromCleo = async () => (await stats(dina)).filter((s) => s.peerId === cleoId);
		const flowing = await pollUntil('Dina receives Cleo\'s audio and video bytes', async () => {
			const inbound = await fromCleo();
			return inbound.length === 2 && inbound.every((s) => s.bytesReceived > 2000) ? inbound : undefined;
		}, { timeoutMs: 20000, intervalMs: 250 });
		await pollUntil('Dina\'s receivers of Cleo are undecryptable', async () =>
			(await e2ee(dina)).undecryptable.length === 2, { timeoutMs: 10000, intervalMs: 250 });
		await new Promise((resolve) => setTimeout(resolve, 2000));
		const later = await fromCleo();
		expect(later.map((s) => s.bytesReceived > flowing.find((f) => f.consumerId === s.consumerId)!.bytesReceived)).toEqual([true, true]);
		expect(later.find((s) => s.kind === 'video')!.framesDecoded).toBe(0);
		const report = await e2ee(dina);
		expect(report.transforms.filter((t) => t.side === 'recv').map((t) => t.frames)).toEqual([0, 0]);
		expect(report.call!.keysFrom).toEqual([]);
		await hangUp(cleo, dina);

		// A browser that cannot encrypt is told why: on the incoming screen (only Decline), and when it calls.
		const hal = await person('hal', 'Hal', { old: true });
		await cleo.page.goto(`${suite.node.url}/directory`);
		await online(cleo);
		await callFromDirectory(cleo, suite.node.url, 'hal', '#call-audio');
		await hal.page.waitForSelector('#incoming', { state: 'visible', timeout: 10000 });
		expect(await hal.page.textContent('#incoming-problem')).toContain('cannot encrypt calls end to end');
		expect(await hal.page.isDisabled('#accept')).toBe(true);
		await hal.page.click('#decline');
		await pollUntil('Cleo\'s page says Hal declined', async () => (await cleo.page.textContent('#outgoing-state')) === 'Declined', { timeoutMs: 10000 });
		await callFromDirectory(hal, suite.node.url, 'cleo', '#call-audio');
		await pollUntil('Hal\'s call fails with the reason', async () => (await hal.page.textContent('#outgoing-error'))?.includes('cannot encrypt calls end to end'), { timeoutMs: 10000 });
		expect(await cleo.page.isHidden('#incoming')).toBe(true);
	}));

	test('a participant leaves a three-person call: the others\' key ids change within 2 s and they keep decoding each other', reported(async () => {
		const erin = await person('erin', 'Erin');
		const fay = await person('fay', 'Fay');
		const gus = await person('gus', 'Gus');
		await callFromDirectory(erin, suite.node.url, 'fay', '#call-video');
		await answer(fay);
		await inCall(erin, fay);
		// Erin rings Gus into the call from its bar; the bar says who rings until he answers. Fay's page has no such field.
		expect(await fay.page.locator('#add-person').count()).toBe(0);
		await erin.page.fill('#add-person input[name="handle"]', '@Gus');
		await erin.page.click('#add-person button[type="submit"]');
		await pollUntil('Erin\'s bar says Gus rings', async () => (await erin.page.textContent('#adding')) === 'Ringing @gus…', { timeoutMs: 10000 });
		await erin.page.screenshot({ path: screenshotPath('call-adding.png') });
		await answer(gus);
		await erin.page.waitForSelector('#adding', { state: 'hidden', timeout: 10000 });
		const [erinId, fayId, gusId] = await inCall(erin, fay, gus);
		await Promise.all([receivesFrom(erin, [fayId!, gusId!]), receivesFrom(fay, [erinId!, gusId!]), receivesFrom(gus, [erinId!, fayId!])]);
		const codes = await Promise.all([erin, fay, gus].map(async (p) => (await keys(p)).safetyCode));
		expect(new Set(codes).size).toBe(1);
		const before = await Promise.all([erin, fay].map(async (p) => (await keys(p)).sendKid));

		await gus.page.click('#leave');
		const leftAt = Date.now();
		const after = await pollUntil('Erin and Fay seal with new keys', async () => {
			const kids = await Promise.all([erin, fay].map(async (p) => (await keys(p)).sendKid));
			return kids.every((kid, i) => kid !== before[i]) ? kids : undefined;
		}, { timeoutMs: 2000, intervalMs: 50 });
		const took = Date.now() - leftAt;
		expect(after).toHaveLength(2);
		expect(took).toBeLessThanOrEqual(2000);
		await Promise.all([receivesFrom(erin, [fayId!]), receivesFrom(fay, [erinId!])]);
		expect((await keys(erin)).keysFrom).toEqual([fayId]);
		const [erinCode, fayCode] = await Promise.all([erin, fay].map(async (p) => (await keys(p)).safetyCode));
		expect(erinCode).toBe(fayCode);
		expect(erinCode).not.toBe(codes[0]);
		await hangUp(erin, fay);
	}));

	test('a group call from the directory: one invite rings two accounts, the bar says who still rings, and all three decode each other', reported(async () => {
		const kim = await person('kim', 'Kim');
		const ivy = await person('ivy', 'Ivy');
		const jo = await person('joe', 'Joe');
		await kim.page.fill('#group-call input[name="handles"]', '@Ivy, joe');
		await kim.page.click('#group-call button[value="video"]');
		await kim.page.waitForSelector('#outgoing', { state: 'visible' });
		expect(await kim.page.textContent('#outgoing-name')).toBe('@ivy and 1 more');
		await answer(ivy);
		await inCall(kim, ivy);
		await pollUntil('Kim\'s bar says Joe still rings', async () => (await kim.page.textContent('#adding')) === 'Ringing @joe…', { timeoutMs: 10000 });
		await answer(jo);
		await kim.page.waitForSelector('#adding', { state: 'hidden', timeout: 10000 });
		const [kimId, ivyId, joId] = await inCall(kim, ivy, jo);
		await Promise.all([receivesFrom(kim, [ivyId!, joId!]), receivesFrom(ivy, [kimId!, joId!]), receivesFrom(jo, [kimId!, ivyId!])]);
		const codes = await Promise.all([kim, ivy, jo].map(async (p) => (await keys(p)).safetyCode));
		expect(new Set(codes).size).toBe(1);
		await kim.page.click('#leave');
		for (const p of [kim, ivy, jo]) {
			await p.page.waitForSelector('#call-view', { state: 'hidden', timeout: 10000 });
		}
	}));
});
