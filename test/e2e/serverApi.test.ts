import { SwitchyardServer } from '../../sdk/src';
import { pollUntil } from '../helpers/poll';
import { SignalingClient } from '../helpers/signalingClient';
import { hook, newParticipant, receivesFrom, type Participant } from './browser';
import { browserSuite } from './suite';

const SECRET = 'the-browser-suite-api-secret-0123456789';

// The server API against real browsers (docs/server-api.md): a backend removes a participant; that
// browser is put out and says so, the others see it leave, and its token opens the room no more. The
// backend calls through the Node SDK (sdk/).
describe('the server API with real browsers', () => {
	const suite = browserSuite({ media: { workers: 1 }, auth: { apiKeys: [`backend:${SECRET}`] as never } });
	const { open, reported } = suite;

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

		await new SwitchyardServer({ url: suite.node.url, apiKey: 'backend', apiSecret: SECRET }).removeParticipant('api-removal', identity);
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
});
