import { SignalingClient } from '../helpers/signalingClient';
import { poolObjects } from '../helpers/dump';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { opusParameters, vp8Parameters } from '../helpers/rtp';

const EMPTY = { routers: 0, webRtcTransports: 0, consumers: 0, producers: 0, transports: 0 };

describe('rooms over signaling, with real workers', () => {
	let node: TestNode;
	const clients: SignalingClient[] = [];

	beforeAll(async () => {
		node = await startTestNode({
			media: { workers: 2 },
			rooms: { emptyCloseGraceMs: 200, reconnectGraceMs: 1500, maxPeers: 3 },
		});
	});
	afterEach(() => {
		clients.splice(0).forEach((c) => c.disconnect());
	});
	afterAll(() => node.close());

	async function connect(name: string, rooms = ['*']): Promise<SignalingClient> {
		const token = await node.tokens.issue({ sub: `user-${name}`, name, rooms });
		const client = await SignalingClient.connect(node.url, { token });
		clients.push(client);
		client.onConsumerNew(() => undefined);
		return client;
	}

	async function join(client: SignalingClient, roomId: string) {
		const { routerRtpCapabilities } = await client.request('media.capabilities', {});
		return client.request('room.join', { roomId, rtpCapabilities: routerRtpCapabilities as never });
	}

	test('join, produce and consume bookkeeping; after everyone leaves the workers hold nothing of the room', async () => {
		const alice = await connect('alice');
		const bob = await connect('bob');
		const a = await join(alice, 'bookkeeping');
		expect(a.peers).toEqual([]);
		expect(a.resumeToken).toEqual(expect.any(String));
		const b = await join(bob, 'bookkeeping');
		expect(b.peers).toEqual([{ id: a.peerId, displayName: 'alice', e2ee: false, producers: [] }]);
		await pollUntil('peer.joined at alice', () => alice.events.some((e) => e.name === 'peer.joined'));

		const aliceSend = await alice.request('transport.create', { direction: 'send' });
		expect(aliceSend.iceCandidates.length).toBeGreaterThan(0);
		await bob.request('transport.create', { direction: 'recv' });
		const mic = await alice.request('producer.create', { transportId: aliceSend.id, kind: 'audio', rtpParameters: opusParameters(1111) as never, source: 'mic' });
		const cam = await alice.request('producer.create', { transportId: aliceSend.id, kind: 'video', rtpParameters: vp8Parameters(2222) as never, source: 'camera' });

		const offered = await pollUntil('two consumer.new at bob', () => {
			const offers = bob.events.filter((e) => e.name === 'consumer.new');
			return offers.length === 2 && offers;
		});
		expect(offered.map((e) => (e.data as { producerId: string }).producerId).sort()).toEqual([mic.id, cam.id].sort());
		expect(offered.map((e) => (e.data as { peerId: string }).peerId)).toEqual([a.peerId, a.peerId]);

		// Consumers start paused and are resumed once bob acknowledged them.
		const room = node.registry.get('bookkeeping')!;
		const bobPeer = room.peers.get(b.peerId)!;
		await pollUntil('bob consumers resumed', () => bobPeer.consumers.size === 2 && [...bobPeer.consumers.values()].every((c) => !c.paused));
		expect(await poolObjects(node.pool)).toMatchObject({ routers: 1, webRtcTransports: 2, producers: 2, consumers: 2 });

		// A producer paused and closed reaches bob's consumers.
		await alice.request('producer.pause', { producerId: cam.id });
		await pollUntil('consumer.paused', () => bob.events.some((e) => e.name === 'consumer.paused'));
		await alice.request('producer.close', { producerId: cam.id });
		await pollUntil('consumer.closed', () => bob.events.some((e) => e.name === 'consumer.closed'));

		await alice.request('room.leave', {});
		await pollUntil('peer.left at bob', () => bob.events.some((e) => e.name === 'peer.left' && (e.data as { peerId: string }).peerId === a.peerId));
		expect(bobPeer.consumers.size).toBe(0);
		await bob.request('room.leave', {});

		await pollUntil('the room closed', () => node.registry.get('bookkeeping') === undefined);
		expect(await poolObjects(node.pool)).toEqual(EMPTY);
	});

	test('a dropped peer resumes within the grace period and the others see no leave', async () => {
		const alice = await connect('alice');
		const bob = await connect('bob');
		await join(alice, 'resume');
		const b = await join(bob, 'resume');
		const recv = await bob.request('transport.create', { direction: 'recv' });
		const eventsBefore = alice.events.length;

		bob.disconnect();
		const bobAgain = await connect('bob');
		const resumed = await bobAgain.request('room.resume', { resumeToken: b.resumeToken });
		expect(resumed.peerId).toBe(b.peerId);
		expect(resumed.transports).toEqual([{ id: recv.id, direction: 'recv' }]);
		// Longer than the grace: the peer stays because it came back.
		await new Promise((resolve) => setTimeout(resolve, 1800));
		expect(node.registry.get('resume')!.peers.has(b.peerId)).toBe(true);
		expect(alice.events.slice(eventsBefore).map((e) => e.name)).not.toContain('peer.left');
		expect(alice.events.slice(eventsBefore).map((e) => e.name)).not.toContain('peer.joined');

		// A resume token is good for its own bearer only.
		const mallory = await connect('mallory');
		await expect(mallory.request('room.resume', { resumeToken: b.resumeToken })).rejects.toMatchObject({ code: 'not_found' });
	});

	test('a dropped peer that does not come back leaves when the grace expires, with all its objects', async () => {
		const alice = await connect('alice');
		const bob = await connect('bob');
		await join(alice, 'grace');
		const b = await join(bob, 'grace');
		const send = await bob.request('transport.create', { direction: 'send' });
		await bob.request('producer.create', { transportId: send.id, kind: 'audio', rtpParameters: opusParameters(3333) as never, source: 'mic' });
		await alice.request('transport.create', { direction: 'recv' });
		await pollUntil('alice consumes bob', () => alice.events.some((e) => e.name === 'consumer.new'));

		const droppedAt = Date.now();
		bob.disconnect();
		await pollUntil('peer.left after the grace', () => alice.events.some((e) => e.name === 'peer.left' && (e.data as { peerId: string }).peerId === b.peerId), { timeoutMs: 4000 });
		expect(Date.now() - droppedAt).toBeGreaterThanOrEqual(1400);
		await pollUntil('consumer closed', () => alice.events.some((e) => e.name === 'consumer.closed'));
		await alice.request('room.leave', {});
		await pollUntil('room closed', () => node.registry.get('grace') === undefined);
		expect(await poolObjects(node.pool)).toEqual(EMPTY);
	});

	test('two simultaneous first joins make one room', async () => {
		const [alice, bob] = await Promise.all([connect('alice'), connect('bob')]);
		const { routerRtpCapabilities } = await alice.request('media.capabilities', {});
		const created = jest.fn();
		node.registry.observer.on('roomCreated', created);
		const [a, b] = await Promise.all([
			alice.request('room.join', { roomId: 'race', rtpCapabilities: routerRtpCapabilities as never }),
			bob.request('room.join', { roomId: 'race', rtpCapabilities: routerRtpCapabilities as never }),
		]);
		expect(created).toHaveBeenCalledTimes(1);
		expect(node.registry.get('race')!.peers.size).toBe(2);
		expect([a.peers.length, b.peers.length].sort()).toEqual([0, 1]);
		expect(await poolObjects(node.pool)).toMatchObject({ routers: 1 });
	});

	test('a first join that fails (no codec in common) leaves no room behind', async () => {
		const client = await connect('codecless');
		await expect(client.request('room.join', { roomId: 'stillborn', rtpCapabilities: { codecs: [] } })).rejects.toMatchObject({ code: 'validation_failed' });
		await pollUntil('the room closed', () => node.registry.get('stillborn') === undefined);
	});

	test('room cap, room grants and one room per session', async () => {
		const peers = await Promise.all(['p1', 'p2', 'p3'].map((n) => connect(n)));
		for (const peer of peers) {
			await join(peer, 'full');
		}
		const fourth = await connect('p4');
		await expect(join(fourth, 'full')).rejects.toMatchObject({ code: 'room_full' });
		await expect(join(peers[0]!, 'other')).rejects.toMatchObject({ code: 'invalid_state' });

		const limited = await connect('limited', ['only-this']);
		await expect(join(limited, 'full')).rejects.toMatchObject({ code: 'forbidden' });
		await expect(join(limited, 'only-this')).resolves.toMatchObject({ roomId: 'only-this' });
	});
});
