import { SwitchyardServer } from '../../sdk/src';
import { pollUntil } from '../helpers/poll';
import { SignalingClient } from '../helpers/signalingClient';
import { hook, newParticipant, receivesFrom, stats, type Participant } from './browser';
import { browserSuite } from './suite';

const SECRET = 'the-browser-suite-api-secret-0123456789';

// The server API against real browsers (docs/server-api.md): a backend removes a participant; that
// browser is put out and says so, the others see it leave, and its token opens the room no more. It
// mutes a participant's microphone and sends a data message, and the browsers show both. The backend
// calls through the Node SDK (sdk/).
describe('the server API with real browsers', () => {
	const suite = browserSuite({ media: { workers: 1 }, auth: { apiKeys: [`backend:${SECRET}`] as never } });
	const { open, reported } = suite;
	const backend = () => new SwitchyardServer({ url: suite.node.url, apiKey: 'backend', apiSecret: SECRET });

	/** A participant on the room page, with the dev token its page fetched. */
	async function join(room: string, name: string): Promise<Participant & { token: Promise<string> }> {
		const p = await newParticipant(suite.browser, name);
		open.push(p);
		const token = new Promise<string>((resolve) => {
			p.page.on('response', (response) => {
				if (response.url().endsWith('/api/dev/token')) {
					void response.json().then((body: { token: string }) => resolve(body.token));
				}
			});
		});
		await p.page.goto(`${suite.node.url}/room/${room}?name=${name}&w=160&h=120`);
		await pollUntil(`${name} is connected`, async () => (await hook(p).catch(() => undefined))?.state === 'connected', { timeoutMs: 30_000, intervalMs: 250 });
		return Object.assign(p, { token });
	}

	test('removing a participant puts that browser out of the room, and its token cannot rejoin', reported(async () => {
		const ada = await join('api-removal', 'Ada');
		const eve = await join('api-removal', 'Eve');
		const adaId = (await hook(ada)).peerId;
		const eveId = (await hook(eve)).peerId;
		await receivesFrom(ada, [eveId]);
		const identity = suite.node.registry.get('api-removal')!.peers.get(eveId)!.claims.sub;
		const eveToken = await eve.token;
		expect((await suite.node.tokens.verify(eveToken)).sub).toBe(identity);

		await backend().removeParticipant('api-removal', identity);
		await pollUntil('Eve\'s page says she was removed', async () => (await eve.page.textContent('#notice'))?.includes('You were removed from this room.'), { timeoutMs: 10_000 });
		await pollUntil('Ada\'s page drops Eve\'s tile', async () => (await ada.page.locator(`.tile[data-peer-id="${eveId}"]`).count()) === 0, { timeoutMs: 10_000 });
		expect((await hook(ada)).peerId).toBe(adaId);
		// Her token opens the room no more.
		const again = await SignalingClient.connect(suite.node.url, { token: eveToken });
		try {
			expect(await again.requestRaw('room.join', { roomId: 'api-removal', rtpCapabilities: suite.node.pool.routerRtpCapabilities as never }))
				.toEqual({ ok: false, error: { code: 'forbidden', message: 'the token does not grant this room' } });
		} finally {
			again.disconnect();
		}
	}), 60_000);

	test('muting a track stops its media at the others and the muted browser shows it; allowed, the user unmutes; data messages show as the service\'s', reported(async () => {
		const ada = await join('api-mute', 'Ada');
		const eve = await join('api-mute', 'Eve');
		const eveId = (await hook(eve)).peerId;
		await receivesFrom(ada, [eveId]);
		const identity = suite.node.registry.get('api-mute')!.peers.get(eveId)!.claims.sub;
		const mute = (muted: boolean) => backend().muteTrack('api-mute', identity, { kind: 'audio', muted });
		const audioFromEve = async () => (await stats(ada)).find((s) => s.peerId === eveId && s.kind === 'audio')!.bytesReceived;
		const notice = async (p: Participant) => ({ text: await p.page.textContent('#notice'), from: await p.page.getAttribute('#notice', 'data-from') });
		const micButton = (p: Participant) => p.page.getAttribute('#mute', 'aria-pressed');

		expect(await mute(true)).toEqual({ participants: 1, tracks: 1 });
		await pollUntil('Eve\'s page says the service muted her', async () => (await notice(eve)).text === 'The service muted your microphone.', { timeoutMs: 10_000 });
		expect((await notice(eve)).from).toBe('service');
		expect(await micButton(eve)).toBe('true');
		// Her audio stops at Ada: no byte comes any more.
		const adaPeer = [...suite.node.registry.get('api-mute')!.peers.values()].find((p) => p.id !== eveId)!;
		await pollUntil('Ada\'s consumer of Eve\'s mic paused', () => [...adaPeer.consumers.values()].some((c) => c.kind === 'audio' && c.producerPaused), { timeoutMs: 5000 });
		await new Promise((resolve) => setTimeout(resolve, 500));
		const stopped = await audioFromEve();
		await new Promise((resolve) => setTimeout(resolve, 2000));
		expect(await audioFromEve()).toBe(stopped);
		// Unmuting is refused, and the page says why.
		await eve.page.click('#mute');
		await pollUntil('Eve\'s page says she may not unmute yet', async () => (await notice(eve)).text?.includes('once the service allows it'), { timeoutMs: 5000 });
		expect(await micButton(eve)).toBe('true');

		expect(await mute(false)).toEqual({ participants: 1, tracks: 1 });
		await pollUntil('Eve\'s page says she may unmute', async () => (await notice(eve)).text === 'The service allows you to unmute your microphone.', { timeoutMs: 10_000 });
		// The server turns nothing on: she does.
		await new Promise((resolve) => setTimeout(resolve, 1000));
		expect(await audioFromEve()).toBe(stopped);
		await eve.page.click('#mute');
		expect(await micButton(eve)).toBe('false');
		await pollUntil('Eve\'s audio reaches Ada again', async () => (await audioFromEve()) > stopped, { timeoutMs: 10_000, intervalMs: 250 });

		expect(await backend().sendData('api-mute', 'The meeting ends in 5 minutes', { topic: 'schedule' })).toEqual({ delivered: 2 });
		for (const p of [ada, eve]) {
			await pollUntil(`${p.name}'s page shows the service's message`, async () => (await notice(p)).text === 'Message from the service (schedule): The meeting ends in 5 minutes', { timeoutMs: 5000 });
			expect((await notice(p)).from).toBe('service');
		}
	}), 90_000);
});
