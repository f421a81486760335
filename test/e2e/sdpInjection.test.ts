import dgram from 'node:dgram';
import { ATTACKER_IP, injectedCandidate, MARKER, tamperingSignaling, withCname, withCodecParameters } from '../helpers/hostile';
import { MediaClient, type MediaSignaling } from '../helpers/mediaClient';
import { pollUntil } from '../helpers/poll';
import { SignalingClient } from '../helpers/signalingClient';
import type { SwitchyardHook } from '../../src/web/client/hookTypes';
import { hook, openRoom, receivesFrom, remoteCandidates, type Participant } from './browser';
import { browserSuite } from './suite';

const ROOM = 'injection';
/** The ports of the candidates each attacker injects: its own, to tell them apart. */
const CNAME_PORT = 9999;
const FMTP_PORT = 9998;

function remoteDescriptions(p: Participant): Promise<(string | undefined)[]> {
	return p.page.evaluate(() => (globalThis as unknown as { switchyard: SwitchyardHook }).switchyard.remoteDescriptions());
}

/** A UDP socket at the attacker's address: what a victim's ICE agent sends there. */
async function listenAsAttacker(port: number): Promise<{ packets: string[]; close(): void }> {
	const socket = dgram.createSocket('udp4');
	const packets: string[] = [];
	socket.on('message', (message, from) => packets.push(`${message.length} bytes from ${from.address}:${from.port}`));
	await new Promise<void>((resolve, reject) => {
		socket.once('error', reject);
		socket.bind(port, ATTACKER_IP, resolve);
	});
	return { packets, close: () => socket.close() };
}

// Hole 1 of issue 17: a peer's RTP parameters reach the other browsers' SDP.
// A hostile client, with a real send transport (mediasoup-client on wrtc),
// sends a cname and an Opus fmtp value that end their SDP line and add a host
// candidate at a loopback address; the victim is the web client in chromium.
describe('peer-controlled text and the SDP of the other browsers', () => {
	const suite = browserSuite({ media: { workers: 1 } });
	const { open, reported } = suite;
	const clients: { signaling: SignalingClient; media: MediaClient }[] = [];
	const listeners: { close(): void }[] = [];

	afterAll(async () => {
		for (const { signaling, media } of clients.splice(0)) {
			await media.close();
			signaling.disconnect();
		}
		listeners.forEach((l) => l.close());
	});

	async function nodeClient(name: string, wrap: (s: SignalingClient) => MediaSignaling = (s) => s): Promise<{ signaling: SignalingClient; media: MediaClient; peerId: string }> {
		const signaling = await SignalingClient.connect(suite.node.url, { token: await suite.node.tokens.issue({ sub: name, name, rooms: [ROOM] }) });
		const media = await MediaClient.create(wrap(signaling));
		clients.push({ signaling, media });
		const { peerId } = await media.join(ROOM, undefined, { consume: false });
		return { signaling, media, peerId };
	}

	test('a hostile producer writes no line into the victim\'s remote description, its ICE agent sends the attacker nothing, and the victim still receives everyone', reported(async () => {
		const stunAtCname = await listenAsAttacker(CNAME_PORT);
		const stunAtFmtp = await listenAsAttacker(FMTP_PORT);
		listeners.push(stunAtCname, stunAtFmtp);

		const victim = await openRoom(suite.browser, suite.node.url, ROOM, 'Victim');
		open.push(victim);
		const victimId = (await hook(victim)).peerId;

		// The cname: the node must set its own, so this producer is accepted.
		// NOTE: first, so that its consumer is the first m-section of the victim's
		// receive description: the BUNDLE tag, whose candidates its ICE agent uses.
		const cnameAttacker = await nodeClient('CnameAttacker', (s) => tamperingSignaling(s, (rtp) => withCname(rtp, `x${injectedCandidate(CNAME_PORT)}`)));
		await cnameAttacker.media.produceSynthetic({ audio: true, video: { width: 320, height: 180 } });
		const normal = await nodeClient('Normal');
		await normal.media.produceSynthetic({ audio: true, video: { width: 320, height: 180 } });
		// A codec parameter value: the node must refuse it.
		const fmtpAttacker = await nodeClient('FmtpAttacker', (s) => tamperingSignaling(s, (rtp) => withCodecParameters(rtp, { minptime: `10${injectedCandidate(FMTP_PORT)}` })));
		const fmtpProduced = await fmtpAttacker.media.produceSynthetic({ audio: true }).then(
			() => 'accepted',
			(error: { code?: string; message?: string }) => error.code ?? error.message,
		);

		// Every producer was offered to the victim and its page answered each offer.
		const victimPeer = suite.node.registry.get(ROOM)!.peers.get(victimId)!;
		await pollUntil('the victim answered every consumer.new', () => victimPeer.subscriptions.inFlight === 0, { timeoutMs: 20000, intervalMs: 100 });
		// The victim's own (chromium's) parameters pass the node's checks.
		expect([...victimPeer.producers.values()].map((p) => p.appData.source).sort()).toEqual(['camera', 'mic']);

		// Time for the victim's ICE agent to check every remote candidate it got:
		// an injected one is checked at once (on today's code STUN reaches the
		// attacker well before the victim decodes anyone). Failing here would
		// hide the evidence below, so this only waits.
		await receivesFrom(victim, [normal.peerId]).catch(() => undefined);
		const descriptions = await remoteDescriptions(victim);
		const sdp = descriptions.join('\n');
		const evidence = {
			fmtpProducer: fmtpProduced,
			recvDescription: descriptions[1] === undefined ? 'missing' : descriptions[1] === '' ? 'empty' : 'present',
			attackerLines: sdp.split(/\r?\n/).filter((line) => line.includes(MARKER) || line.includes(ATTACKER_IP)),
			attackerCandidates: (await remoteCandidates(victim)).filter((c) => c.address === ATTACKER_IP),
			stunToAttacker: [...stunAtCname.packets, ...stunAtFmtp.packets],
		};
		expect(evidence).toEqual({ fmtpProducer: 'validation_failed', recvDescription: 'present', attackerLines: [], attackerCandidates: [], stunToAttacker: [] });

		// The attacker's consumers carry the cname the node gave its peer.
		const attackerCname = suite.node.registry.get(ROOM)!.peers.get(cnameAttacker.peerId)!.cname;
		expect(descriptions[1]).toContain(` cname:${attackerCname}`);

		// The victim's session is whole: it decodes the normal participant and the
		// cname attacker (whose producers the node took, with its own cname).
		await receivesFrom(victim, [normal.peerId, cnameAttacker.peerId]);
		expect((await hook(victim)).state).toBe('connected');
		expect((await hook(victim)).recoveries).toEqual([]);
		expect(stunAtCname.packets.length + stunAtFmtp.packets.length).toBe(0);
	}));
});
