import { MediaClient } from '../helpers/mediaClient';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { SignalingClient } from '../helpers/signalingClient';

// The policy applied by a room: viewport hints choose the layer, hidden tiles
// pause, and the publisher hears which encodings anybody needs (dynacast).
describe('bitrate and simulcast policy in a room', () => {
	let node: TestNode;
	const parties: { signaling: SignalingClient; media: MediaClient }[] = [];

	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 1 } });
	});
	afterAll(async () => {
		for (const { signaling, media } of parties.splice(0)) {
			await media.close();
			signaling.disconnect();
		}
		await node.close();
	});

	test('viewport hints pick the layer and pause hidden tiles; the publisher gets producer.encodings', async () => {
		const make = async (name: string) => {
			const signaling = await SignalingClient.connect(node.url, { token: await node.tokens.issue({ sub: name, rooms: ['*'] }) });
			const media = await MediaClient.create(signaling);
			parties.push({ signaling, media });
			await media.join('policy');
			return { signaling, media };
		};
		const alice = await make('alice');
		const bob = await make('bob');
		await alice.media.produceSynthetic({ video: { width: 640, height: 360, simulcast: true } });
		const room = node.registry.get('policy')!;
		const bobPeer = [...room.peers.values()].find((p) => p.claims.sub === 'bob')!;
		const consumer = await pollUntil('bob consumes alice', () => [...bobPeer.consumers.values()].find((c) => c.kind === 'video' && !c.paused));
		expect(consumer.type).toBe('simulcast');
		const encodings = () => alice.signaling.events.filter((e) => e.name === 'producer.encodings').map((e) => (e.data as { active: boolean[] }).active);

		await bob.signaling.request('consumer.setViewport', { consumerId: consumer.id, width: 160, height: 90, visible: true });
		await pollUntil('the low layer', () => consumer.preferredLayers?.spatialLayer === 0);
		await pollUntil('only the low encoding needed', () => JSON.stringify(encodings().at(-1)) === JSON.stringify([true, false, false]));

		await bob.signaling.request('consumer.setViewport', { consumerId: consumer.id, width: 1280, height: 720, visible: true });
		await pollUntil('the top layer', () => consumer.preferredLayers?.spatialLayer === 2);
		await pollUntil('only the top encoding needed', () => JSON.stringify(encodings().at(-1)) === JSON.stringify([false, false, true]));

		await bob.signaling.request('consumer.setViewport', { consumerId: consumer.id, width: 1280, height: 720, visible: false });
		await pollUntil('paused while hidden', () => consumer.paused);
		await bob.signaling.request('consumer.setViewport', { consumerId: consumer.id, width: 1280, height: 720, visible: true });
		await pollUntil('resumed when shown', () => !consumer.paused);

		// Someone else's consumer, or garbage: refused, nothing changes.
		expect(await alice.signaling.requestRaw('consumer.setViewport', { consumerId: consumer.id, width: 1, height: 1, visible: false })).toMatchObject({ ok: false, error: { code: 'not_found' } });
		expect(await bob.signaling.requestRaw('consumer.setViewport', { consumerId: consumer.id, width: -1, height: 'big', visible: true })).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
		expect(await bob.signaling.requestRaw('consumer.pin', { consumerId: 'nope' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
		await expect(bob.signaling.request('consumer.pin', { consumerId: consumer.id })).resolves.toEqual({});
	});
});
