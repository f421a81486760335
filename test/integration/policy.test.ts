import { MediaClient } from '../helpers/mediaClient';
import { metricValue } from '../helpers/metrics';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { SignalingClient } from '../helpers/signalingClient';

// The policy applied by a room: viewport hints choose the layer, hidden tiles
// pause, and the publisher hears which encodings anybody needs (dynacast).
// NOTE: each wait is a bound on convergence, not a timing claim: 20 s, since a
// CI run starves the synthetic publishers while the test file beside it runs.
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

	const make = async (target: TestNode, roomId: string, name: string) => {
		const signaling = await SignalingClient.connect(target.url, { token: await target.tokens.issue({ sub: name, rooms: ['*'] }) });
		const media = await MediaClient.create(signaling);
		parties.push({ signaling, media });
		await media.join(roomId);
		return { signaling, media };
	};
	/** Alice publishes audio and simulcast video to Bob in `roomId`; Bob's peer and consumers on the node. */
	const aliceToBob = async (target: TestNode, roomId: string) => {
		const alice = await make(target, roomId, 'alice');
		const bob = await make(target, roomId, 'bob');
		await alice.media.produceSynthetic({ audio: true, video: { width: 640, height: 360, simulcast: true } });
		const room = target.registry.get(roomId)!;
		const bobPeer = [...room.peers.values()].find((p) => p.claims.sub === 'bob')!;
		const of = (kind: 'audio' | 'video') => pollUntil(`bob consumes alice's ${kind}`, () => [...bobPeer.consumers.values()].find((c) => c.kind === kind && !c.paused));
		return { alice, bob, room, bobPeer, video: await of('video'), audio: await of('audio') };
	};

	test('viewport hints pick the layer and pause hidden tiles; the publisher gets producer.encodings', async () => {
		const { alice, bob, video: consumer } = await aliceToBob(node, 'policy');
		expect(consumer.type).toBe('simulcast');
		const encodings = () => alice.signaling.events.filter((e) => e.name === 'producer.encodings').map((e) => (e.data as { active: boolean[] }).active);

		await bob.signaling.request('consumer.setViewport', { consumerId: consumer.id, width: 160, height: 90, visible: true });
		await pollUntil('the low layer', () => consumer.preferredLayers?.spatialLayer === 0);
		await pollUntil('only the low encoding needed', () => JSON.stringify(encodings().at(-1)) === JSON.stringify([true, false, false]));

		await bob.signaling.request('consumer.setViewport', { consumerId: consumer.id, width: 1280, height: 720, visible: true });
		await pollUntil('the top layer', () => consumer.preferredLayers?.spatialLayer === 2);
		await pollUntil('every encoding up to the top needed', () => JSON.stringify(encodings().at(-1)) === JSON.stringify([true, true, true]));

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

	test('a downlink capped on the server: video steps down, then pauses; audio keeps flowing', async () => {
		const { room, bobPeer, video, audio } = await aliceToBob(node, 'policy-cap');
		await pollUntil('the top layer at first', () => video.preferredLayers?.spatialLayer === 2);
		// 700 kbit/s: audio (40 k) and the middle layer (500 k) fit, the top does not.
		await bobPeer.capDownlink(700_000);
		await pollUntil('the middle layer', () => video.preferredLayers?.spatialLayer === 1, { timeoutMs: 20_000 });
		// 100 kbit/s: not even the lowest layer fits; audio does.
		await bobPeer.capDownlink(100_000);
		await pollUntil('video paused', () => video.paused, { timeoutMs: 20_000 });
		expect(audio.paused).toBe(false);
		expect(metricValue(await node.metrics.registry.metrics(), 'switchyard_policy_paused_consumers')).toBeGreaterThanOrEqual(1);
		const before = (await audio.getStats()).find((s) => s.type === 'outbound-rtp')?.packetCount ?? 0;
		await pollUntil('audio still sent', async () => ((await audio.getStats()).find((s) => s.type === 'outbound-rtp')?.packetCount ?? 0) > before + 10, { timeoutMs: 20_000 });
		await bobPeer.capDownlink(10_000_000);
		// NOTE: the estimate climbs back by probing, which takes some seconds.
		await pollUntil('video back', () => !video.paused && video.preferredLayers?.spatialLayer === 2, { timeoutMs: 20_000 });
	});

	test('consumer.quality: sent for the video, and poor once the downlink is capped below what video needs', async () => {
		const { bob, bobPeer, video } = await aliceToBob(node, 'policy-quality');
		const qualities = () => bob.signaling.events.filter((e) => e.name === 'consumer.quality' && (e.data as { consumerId: string }).consumerId === video.id)
			.map((e) => (e.data as { quality: string }).quality);
		await pollUntil('a first consumer.quality for the video', () => qualities().length > 0, { timeoutMs: 20_000 });
		expect(['good', 'fair', 'poor']).toContain(qualities()[0]);
		// 100 kbit/s: the video is paused to fit; the tile still wants its layer.
		await bobPeer.capDownlink(100_000);
		await pollUntil('poor after the cap', () => qualities().at(-1) === 'poor', { timeoutMs: 20_000 });
		// Only changes are sent.
		expect(qualities().every((q, i, all) => i === 0 || all[i - 1] !== q)).toBe(true);
		await bobPeer.capDownlink(10_000_000);
		await pollUntil('no longer poor once lifted', () => qualities().at(-1) !== 'poor', { timeoutMs: 20_000 });
	});

	test('consumer.quality: sent for every consumer, also one whose score never changes (a late joiner of a publisher already sending)', async () => {
		const { room } = await aliceToBob(node, 'policy-quality-late');
		const carol = await make(node, 'policy-quality-late', 'carol');
		const carolPeer = [...room.peers.values()].find((p) => p.claims.sub === 'carol')!;
		const consumers = await pollUntil('carol consumes audio and video', () => {
			const live = [...carolPeer.consumers.values()].filter((c) => !c.paused);
			return live.length === 2 ? live : undefined;
		});
		const reported = () => new Set(carol.signaling.events.filter((e) => e.name === 'consumer.quality').map((e) => (e.data as { consumerId: string }).consumerId));
		await pollUntil('a consumer.quality for each of carol\'s consumers', () => consumers.every((c) => reported().has(c.id)), { timeoutMs: 20_000 });
	});

	test('layer switches of one producer are spaced out (key frames), and still happen', async () => {
		const { bob, video } = await aliceToBob(node, 'policy-keyframes');
		await pollUntil('the top layer at first', () => video.preferredLayers?.spatialLayer === 2);
		// NOTE: the top layer it is on now is the first entry: the first flap may switch before the watch's first tick.
		const switches: { layer: number; at: number }[] = [{ layer: 2, at: Date.now() }];
		const watch = setInterval(() => {
			const layer = video.preferredLayers?.spatialLayer ?? -1;
			if (switches.at(-1)?.layer !== layer) {
				switches.push({ layer, at: Date.now() });
			}
		}, 20);
		try {
			// A flapping tile: small, large, small within a few hundred ms.
			for (const height of [90, 720, 90, 720]) {
				await bob.signaling.request('consumer.setViewport', { consumerId: video.id, width: height * 16 / 9, height, visible: true });
				await new Promise((resolve) => setTimeout(resolve, 250));
			}
			await pollUntil('it settles on the last size', () => video.preferredLayers?.spatialLayer === 2 && switches.length > 2, { timeoutMs: 20_000 });
		} finally {
			clearInterval(watch);
		}
		// NOTE: a step that the 20 ms watch had not seen yet when the poll saw the last size.
		if (switches.at(-1)?.layer !== video.preferredLayers?.spatialLayer) {
			switches.push({ layer: video.preferredLayers?.spatialLayer ?? -1, at: Date.now() });
		}
		const gaps = switches.slice(1).map((s, i) => s.at - switches[i]!.at);
		// Four sizes in a second: the switches that follow are at least a second apart (a little slack for timers).
		expect(gaps.slice(1).every((gap) => gap >= node.config.policy.layerSwitchIntervalMs - 100)).toBe(true);
		// Down to the thumbnail layer once, then back up: not down and up twice. (Under load a step
		// through the middle layer may show too: a consumer scored low gets one layer less.)
		const layers = switches.map((s) => s.layer);
		expect([layers[0], layers.filter((layer) => layer === 0).length, layers.at(-1)]).toEqual([2, 1, 2]);
		expect(layers.filter((layer) => layer !== 1)).toEqual([2, 0, 2]);
		// SREs see it: held-back switches, applied ones, dynacast updates.
		const text = await node.metrics.registry.metrics();
		expect(metricValue(text, 'switchyard_policy_layer_switches_total{result="deferred"}')).toBeGreaterThan(0);
		expect(metricValue(text, 'switchyard_policy_layer_switches_total{result="applied"}')).toBeGreaterThanOrEqual(2);
		expect(metricValue(text, 'switchyard_policy_encodings_updates_total')).toBeGreaterThan(0);
	});

	test('a consumer received badly gets one layer less until its score recovers', async () => {
		const { bob, video } = await aliceToBob(node, 'policy-score');
		// NOTE: a medium tile (the middle layer) leaves the bandwidth estimate out of it on a busy machine.
		await bob.signaling.request('consumer.setViewport', { consumerId: video.id, width: 533, height: 300, visible: true });
		await pollUntil('the middle layer at first', () => video.preferredLayers?.spatialLayer === 1, { timeoutMs: 20_000 });
		// NOTE: scores as a lossy link would give them, to the room's own listeners,
		// which stop hearing the worker's real ones (all 10 on loopback).
		const listeners = video.listeners('score') as ((score: unknown) => void)[];
		video.removeAllListeners('score');
		const score = (value: number) => listeners.forEach((listener) => listener({ score: value, producerScore: 10, producerScores: [10, 10, 10] }));
		score(3);
		await pollUntil('one layer less', () => video.preferredLayers?.spatialLayer === 0, { timeoutMs: 20_000 });
		score(6);
		await new Promise((resolve) => setTimeout(resolve, 1500));
		expect(video.preferredLayers?.spatialLayer).toBe(0);
		score(9);
		await pollUntil('back at the middle layer', () => video.preferredLayers?.spatialLayer === 1, { timeoutMs: 20_000 });
	});

	test('layers a client sets itself are a ceiling the policy keeps to', async () => {
		const { bob, video } = await aliceToBob(node, 'policy-ceiling');
		await pollUntil('the top layer at first', () => video.preferredLayers?.spatialLayer === 2);
		await bob.signaling.request('consumer.setPreferredLayers', { consumerId: video.id, spatialLayer: 1 });
		// A large tile would call for the top layer; the ceiling holds through later passes.
		await bob.signaling.request('consumer.setViewport', { consumerId: video.id, width: 1920, height: 1080, visible: true });
		await new Promise((resolve) => setTimeout(resolve, 1500));
		expect(video.preferredLayers?.spatialLayer).toBe(1);
		// A small one calls for less: the policy goes below the ceiling.
		await bob.signaling.request('consumer.setViewport', { consumerId: video.id, width: 160, height: 90, visible: true });
		await pollUntil('the low layer', () => video.preferredLayers?.spatialLayer === 0, { timeoutMs: 20_000 });
	});

	test('with the policy off, every consumer gets the top layer and nothing is paused or stopped', async () => {
		const off = await startTestNode({ media: { workers: 1 }, policy: { enabled: false } });
		try {
			const { alice, bob, video } = await aliceToBob(off, 'policy-off');
			await bob.signaling.request('consumer.setViewport', { consumerId: video.id, width: 160, height: 90, visible: false });
			await new Promise((resolve) => setTimeout(resolve, 1000));
			expect(video.paused).toBe(false);
			expect(video.preferredLayers?.spatialLayer).toBe(2);
			expect(alice.signaling.events.filter((e) => e.name === 'producer.encodings')).toEqual([]);
		} finally {
			for (const { signaling, media } of parties.splice(0)) {
				await media.close();
				signaling.disconnect();
			}
			await off.close();
		}
	});
});
