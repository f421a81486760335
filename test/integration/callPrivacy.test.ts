import { api, publishDevice, signup } from '../helpers/accounts';
import { MediaClient } from '../helpers/mediaClient';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { SignalingClient } from '../helpers/signalingClient';

const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/g;

// The caller connects from 127.0.0.2 and the callee from 127.0.0.3, so the
// addresses differ; media flows through the node (127.0.0.1), which never
// relays ICE candidates between peers.
test('nothing the node sends to the callee during a call contains an address of the caller', async () => {
	const node: TestNode = await startTestNode({ media: { workers: 1 } });
	const opened: { signaling: SignalingClient; media?: MediaClient }[] = [];
	const connect = async (token: string, localAddress: string) => {
		const signaling = await SignalingClient.connect(node.url, { token, localAddress });
		opened.push({ signaling });
		return signaling;
	};
	try {
		const caller = await signup(node, 'private_caller');
		const callee = await signup(node, 'private_callee');
		await api(node, callee.token, 'PUT', `/api/me/contacts/${caller.handle}`);
		const callerDevice = await connect(caller.token, '127.0.0.2');
		const calleeDevice = await connect(callee.token, '127.0.0.3');

		const { callId } = await callerDevice.request('call.invite', { to: [callee.handle], media: 'video', deviceId: await publishDevice(node, caller.token) });
		await calleeDevice.waitFor('call.incoming');
		const accepted = await calleeDevice.request('call.accept', { callId, deviceId: await publishDevice(node, callee.token) });
		const { token: callerRoomToken } = await callerDevice.waitFor('call.accepted');

		const callerRoom = await connect(callerRoomToken, '127.0.0.2');
		const calleeRoom = await connect(accepted.token, '127.0.0.3');
		const callerMedia = await MediaClient.create(callerRoom);
		const calleeMedia = await MediaClient.create(calleeRoom);
		opened.push({ signaling: callerRoom, media: callerMedia }, { signaling: calleeRoom, media: calleeMedia });
		await callerMedia.join(accepted.roomId, undefined, { e2ee: true });
		await calleeMedia.join(accepted.roomId, undefined, { e2ee: true });
		await callerMedia.produceSynthetic({ audio: true, video: { width: 320, height: 180 } });
		await calleeMedia.produceSynthetic({ audio: true, video: { width: 320, height: 180 } });
		await pollUntil('the callee decodes the caller', async () =>
			(await calleeMedia.inboundStats()).some((s) => s.kind === 'video' && (s.framesDecoded ?? 0) > 0), { timeoutMs: 15000, intervalMs: 200 });
		// The node did see the caller at 127.0.0.2, so a leak of it would show below.
		const seen = [...node.app.io.sockets.sockets.values()].map((socket) => socket.handshake.address);
		expect(seen).toEqual(expect.arrayContaining(['127.0.0.2', '127.0.0.3']));
		await callerDevice.request('call.hangup', { callId });
		await calleeDevice.waitFor('call.ended');

		// Everything the callee's connections received: events and replies.
		const received = JSON.stringify([calleeDevice.events, calleeDevice.replies, calleeRoom.events, calleeRoom.replies]);
		expect(received.length).toBeGreaterThan(1000);
		expect(received).not.toContain('127.0.0.2');
		// The only address in it is the node's own (its ICE candidates).
		expect([...new Set(received.match(IPV4))]).toEqual(['127.0.0.1']);
	} finally {
		for (const { signaling, media } of opened) {
			await media?.close();
			signaling.disconnect();
		}
		await node.close();
	}
});
