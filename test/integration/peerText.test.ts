import { MediaClient } from '../helpers/mediaClient';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { ATTACKER_IP, injectedCandidate, MARKER, withCname, withCodecParameters, type RtpParameters } from '../helpers/hostile';
import { opusParameters, vp8Parameters } from '../helpers/rtp';
import { SignalingClient } from '../helpers/signalingClient';
import type { ServerEventData } from '../../src/signaling/protocol';

type Ack = { ok: boolean; error?: { code: string; message: string } };

// Text a client sends that other peers' browsers get: what mediasoup copies
// from a producer into every consumer (its cname, its codec parameters) ends up
// in the receivers' SDP, and display names end up in their pages. The node
// sets the cname itself and refuses the rest outside safe characters.
describe('text a peer sends that reaches other peers', () => {
	let node: TestNode;
	const clients: SignalingClient[] = [];
	const media: MediaClient[] = [];

	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 1 }, accounts: { signupsPerHour: 1000 } });
	});
	afterAll(async () => {
		for (const m of media.splice(0)) {
			await m.close();
		}
		clients.forEach((c) => c.disconnect());
		await node.close();
	});

	async function connect(name: string, claims: { name?: string; handle?: string } = { name }): Promise<SignalingClient> {
		const client = await SignalingClient.connect(node.url, { token: await node.tokens.issue({ sub: name, rooms: ['*'], ...claims }) });
		client.onConsumerNew(() => undefined);
		clients.push(client);
		return client;
	}

	async function join(client: SignalingClient, roomId: string) {
		const { routerRtpCapabilities } = await client.request('media.capabilities', {});
		const joined = await client.request('room.join', { roomId, rtpCapabilities: routerRtpCapabilities as never });
		const send = await client.request('transport.create', { direction: 'send' });
		return { joined, send };
	}

	test("the node sets each peer's cname: the client's, injected SDP and all, reaches no other peer", async () => {
		const attacker = await connect('cname-attacker');
		const victim = await connect('cname-victim');
		const a = await join(attacker, 'cname');
		const v = await join(victim, 'cname');
		const offers: ServerEventData<'consumer.new'>[] = [];
		victim.onConsumerNew((offer) => {
			offers.push(offer);
		});
		await victim.request('transport.create', { direction: 'recv' });

		const cname = `x${injectedCandidate(9999)}`;
		// Accepted: the cname is the node's to set, whatever the client sent.
		await attacker.request('producer.create', { transportId: a.send.id, kind: 'audio', rtpParameters: withCname(opusParameters(1000), cname), source: 'mic' });
		await attacker.request('producer.create', { transportId: a.send.id, kind: 'video', rtpParameters: withCname(vp8Parameters(1001), `${MARKER}-other`), source: 'camera' });
		await victim.request('producer.create', { transportId: v.send.id, kind: 'audio', rtpParameters: opusParameters(2000), source: 'mic' });
		await pollUntil('the victim is offered both producers', () => offers.length === 2);

		const cnames = offers.map((o) => (o.rtpParameters as { rtcp: { cname: string } }).rtcp.cname);
		expect(cnames[0]).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
		// One per peer, so the receiver keeps the peer's audio and video in sync.
		expect(cnames[1]).toBe(cnames[0]);
		for (const offer of offers) {
			expect(JSON.stringify(offer.rtpParameters)).not.toContain(MARKER);
			expect(JSON.stringify(offer.rtpParameters)).not.toContain(ATTACKER_IP);
		}
		// In the node: each peer's producers carry that peer's cname, and no two peers share one.
		const room = node.registry.get('cname')!;
		const attackerPeer = room.peers.get(a.joined.peerId)!;
		const victimPeer = room.peers.get(v.joined.peerId)!;
		expect([...attackerPeer.producers.values()].map((p) => p.rtpParameters.rtcp?.cname)).toEqual([cnames[0], cnames[0]]);
		const [victimCname] = [...victimPeer.producers.values()].map((p) => p.rtpParameters.rtcp?.cname);
		expect(victimCname).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
		expect(victimCname).not.toBe('cname-2000');
		expect(victimCname).not.toBe(cnames[0]);
	});

	const BAD_PARAMETERS: [string, Record<string, unknown>][] = [
		['CR/LF in a value', { minptime: `10${injectedCandidate(9998)}` }],
		['a ; in a value', { useinbandfec: '1;stereo=1' }],
		['an = in a value', { useinbandfec: 'a=b' }],
		['a space in a value', { useinbandfec: '1 2' }],
		['a tab in a value', { useinbandfec: '1\t2' }],
		['a boolean value', { usedtx: true }],
		// NOTE: short enough for the 64 characters a key had before.
		['CR/LF in a key', { [`x\r\na=candidate:1 1 udp 1 ${ATTACKER_IP} 9 typ host`]: 1 }],
		['a ; in a key', { 'useinbandfec;stereo': 1 }],
		['an = in a key', { 'stereo=1': 1 }],
		['a space in a key', { 'use inbandfec': 1 }],
		['an empty key', { '': 1 }],
	];

	test.each(BAD_PARAMETERS)('codec parameters with %s are refused with validation_failed, in producer.create and in room.join', async (_, bad) => {
		const client = await connect(`bad-parameters-${clients.length}`);
		const opus = { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 };
		const joinAck = await client.requestRaw('room.join', { roomId: 'parameters', rtpCapabilities: { codecs: [{ ...opus, parameters: bad }] } }) as Ack;
		expect(joinAck).toMatchObject({ ok: false, error: { code: 'validation_failed', message: expect.stringContaining('rtpCapabilities.codecs.0.parameters') } });

		const { joined, send } = await join(client, 'parameters');
		const rtp = withCodecParameters(opusParameters(3000 + clients.length), bad);
		const ack = await client.requestRaw('producer.create', { transportId: send.id, kind: 'audio', rtpParameters: rtp, source: 'mic' }) as Ack;
		expect(ack).toMatchObject({ ok: false, error: { code: 'validation_failed', message: expect.stringContaining('rtpParameters.codecs.0.parameters') } });
		const extension = { uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1, parameters: bad };
		const extensionAck = await client.requestRaw('producer.create', {
			transportId: send.id, kind: 'audio', rtpParameters: { ...opusParameters(3100 + clients.length), headerExtensions: [extension] }, source: 'mic',
		}) as Ack;
		expect(extensionAck).toMatchObject({ ok: false, error: { code: 'validation_failed', message: expect.stringContaining('rtpParameters.headerExtensions.0.parameters') } });
		// Nothing was made, and the node still serves the same connection.
		expect(node.registry.get('parameters')!.peers.get(joined.peerId)!.producers.size).toBe(0);
		await client.request('producer.create', { transportId: send.id, kind: 'audio', rtpParameters: opusParameters(3200 + clients.length), source: 'mic' });
	});

	// NOTE: a short line, within the lengths these fields had before (16-32 characters).
	const INJECTED = `\r\na=x-${MARKER}`;
	const BAD_FIELDS: [string, (rtp: RtpParameters) => unknown, string][] = [
		['a mid with CR/LF', (rtp) => ({ ...rtp, mid: `0${INJECTED}` }), 'rtpParameters.mid'],
		['a rid with CR/LF', (rtp) => ({ ...rtp, encodings: [{ rid: `r0${INJECTED}` }] }), 'rtpParameters.encodings.0.rid'],
		['a scalabilityMode with CR/LF', (rtp) => ({ ...rtp, encodings: [{ ssrc: 4000, scalabilityMode: 'L1T3\r\na=x-zz' }] }), 'rtpParameters.encodings.0.scalabilityMode'],
		['a header extension URI with CR/LF', (rtp) => ({ ...rtp, headerExtensions: [{ uri: `urn:ietf:params:rtp-hdrext:sdes:mid${INJECTED}`, id: 1 }] }), 'rtpParameters.headerExtensions.0.uri'],
		['a header extension URI with a space', (rtp) => ({ ...rtp, headerExtensions: [{ uri: 'urn:x y', id: 1 }] }), 'rtpParameters.headerExtensions.0.uri'],
		['an RTCP feedback type with CR/LF', (rtp) => ({ ...rtp, codecs: [{ ...rtp.codecs[0]!, rtcpFeedback: [{ type: `nack${INJECTED}` }] }] }), 'rtpParameters.codecs.0.rtcpFeedback.0.type'],
		['an RTCP feedback parameter with CR/LF', (rtp) => ({ ...rtp, codecs: [{ ...rtp.codecs[0]!, rtcpFeedback: [{ type: 'nack', parameter: `pli${INJECTED}` }] }] }), 'rtpParameters.codecs.0.rtcpFeedback.0.parameter'],
	];

	test.each(BAD_FIELDS)('%s is refused with validation_failed', async (_, tamper, field) => {
		const client = await connect(`bad-field-${clients.length}`);
		const { send } = await join(client, 'fields');
		const ack = await client.requestRaw('producer.create', { transportId: send.id, kind: 'video', rtpParameters: tamper(vp8Parameters(4000 + clients.length)), source: 'camera' }) as Ack;
		expect(ack).toMatchObject({ ok: false, error: { code: 'validation_failed', message: expect.stringContaining(field) } });
	});

	test('a header extension URI with CR/LF is refused in room.join too', async () => {
		const client = await connect('bad-capabilities');
		const { routerRtpCapabilities } = await client.request('media.capabilities', {});
		const caps = routerRtpCapabilities as { codecs: unknown[]; headerExtensions: { uri: string }[] };
		const tampered = { ...caps, headerExtensions: [{ ...caps.headerExtensions[0]!, uri: `${caps.headerExtensions[0]!.uri}${injectedCandidate(9996)}` }] };
		expect(await client.requestRaw('room.join', { roomId: 'caps', rtpCapabilities: tampered })).toMatchObject({
			ok: false, error: { code: 'validation_failed', message: expect.stringContaining('rtpCapabilities.headerExtensions.0.uri') },
		});
	});

	test("mediasoup-client's own parameters pass: H264, RTX, Opus options, simulcast rids, Chrome's header extensions", async () => {
		const client = await connect('ordinary');
		const { send } = await join(client, 'ordinary');
		const feedback = [{ type: 'nack', parameter: '' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }, { type: 'goog-remb', parameter: '' }, { type: 'transport-cc', parameter: '' }];
		const extensions = [
			{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 4, encrypt: false, parameters: {} },
			{ uri: 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id', id: 10, encrypt: false, parameters: {} },
			{ uri: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', id: 2, encrypt: false, parameters: {} },
			{ uri: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01', id: 3, encrypt: false, parameters: {} },
			{ uri: 'https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension', id: 8, encrypt: false, parameters: {} },
		];
		await client.request('producer.create', {
			transportId: send.id, kind: 'video', source: 'camera',
			rtpParameters: {
				mid: '1',
				codecs: [
					{ mimeType: 'video/H264', payloadType: 102, clockRate: 90000, rtcpFeedback: feedback, parameters: { 'profile-level-id': '42e01f', 'packetization-mode': 1, 'level-asymmetry-allowed': 1, 'x-google-start-bitrate': 1000 } },
					{ mimeType: 'video/rtx', payloadType: 103, clockRate: 90000, rtcpFeedback: [], parameters: { apt: 102 } },
				],
				headerExtensions: extensions,
				encodings: [0, 1, 2].map((i) => ({ rid: `r${i}`, active: true, scalabilityMode: 'L1T3', scaleResolutionDownBy: 4 / 2 ** i, maxBitrate: 150_000 * (i + 1) })),
				rtcp: { cname: 'chrome-cname', reducedSize: true },
			},
		});
		await client.request('producer.create', {
			transportId: send.id, kind: 'audio', source: 'mic',
			rtpParameters: {
				mid: '0',
				codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, rtcpFeedback: [{ type: 'transport-cc', parameter: '' }], parameters: { minptime: 10, useinbandfec: 1, 'sprop-stereo': 1, stereo: 1, usedtx: 1, maxplaybackrate: 48000 } }],
				headerExtensions: extensions.slice(0, 1),
				encodings: [{ ssrc: 5000, dtx: false }],
				rtcp: { cname: 'chrome-cname', reducedSize: true },
			},
		});

		// And a real mediasoup-client (on wrtc): its device's capabilities join,
		// its producers are accepted, and the other side decodes them.
		const sender = await MediaClient.create(await connect('real-sender'));
		const receiver = await MediaClient.create(await connect('real-receiver'));
		media.push(sender, receiver);
		await sender.join('real', undefined, { consume: false });
		await receiver.join('real');
		await sender.produceSynthetic({ audio: true, video: { width: 320, height: 180, simulcast: true } });
		await pollUntil('the receiver decodes video and gets audio', async () => {
			const inbound = await receiver.inboundStats();
			return inbound.some((s) => s.kind === 'video' && (s.framesDecoded ?? 0) > 0) && inbound.some((s) => s.kind === 'audio' && s.bytesReceived > 0);
		}, { timeoutMs: 15000, intervalMs: 200 });
	});

	const BAD_NAMES = ['Eve\r\nMallory', 'Eve\u0000', 'bell\u0007', 'tab\tname', 'Eve\u202eyrolláM', 'Eve\u2066x', 'line\u2028sep', '\u0085next'];

	test.each(BAD_NAMES)('a display name with control characters (%j) is refused in room.join, in a token and at signup', async (name) => {
		const client = await connect(`names-${clients.length}`, {});
		const { routerRtpCapabilities } = await client.request('media.capabilities', {});
		expect(await client.requestRaw('room.join', { roomId: 'names', rtpCapabilities: routerRtpCapabilities, displayName: name })).toMatchObject({
			ok: false, error: { code: 'validation_failed', message: expect.stringContaining('displayName') },
		});
		// A token's name and handle claims, which other peers see in peer.joined, as an identity provider might sign them.
		for (const claims of [{ name }, { name: 'Eve', handle: name }]) {
			await expect(connect(`names-token-${clients.length}`, claims)).rejects.toMatchObject({ code: 'unauthorized' });
		}
		const signup = await fetch(`${node.url}/api/auth/signup`, {
			method: 'POST', headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ handle: `names_${clients.length}`, password: 'a long enough password', displayName: name }),
		});
		expect([signup.status, ((await signup.json()) as { error: { code: string } }).error.code]).toEqual([400, 'validation_failed']);
	});

	test('names people write still pass and reach the others as written: accents, CJK, RTL, emoji with joiners', async () => {
		const watcher = await connect('fine-watcher');
		await join(watcher, 'fine');
		for (const name of ['Ada Lovelace', 'Zoë Ñúñez', '李小龍', 'عائشة', 'Ana 👩‍💻', "O'Brien-Smith <b>"]) {
			const client = await connect(`fine-${clients.length}`, {});
			const { routerRtpCapabilities } = await client.request('media.capabilities', {});
			const { peerId } = await client.request('room.join', { roomId: 'fine', rtpCapabilities: routerRtpCapabilities as never, displayName: ` ${name} ` });
			expect((await watcher.waitFor('peer.joined', (e) => e.peer.id === peerId)).peer.displayName).toBe(name);
			const named = await connect(`fine-claim-${clients.length}`, { name });
			expect(named.connected).toBe(true);
		}
	});
});
