/**
 * The room page: takes a dev token, captures microphone and camera, joins,
 * and wires the grid and the controls. `window.switchyard` is a small hook
 * for tests and debugging.
 */
import type { PeerInfo } from '../../signaling/protocol';
import { CallSession, type SessionState } from './CallSession';
import { Grid } from './Grid';
import { Signaling } from './signaling';

const app = document.getElementById('app')!;
const status = document.getElementById('status')!;
const grid = new Grid(document.getElementById('grid')!);
const roomId = app.dataset.roomId!;
const params = new URLSearchParams(location.search);
const name = (params.get('name') || 'Guest').slice(0, 64);
// The capture size can be lowered (tests, weak devices); 1280x720 by default.
const width = Number(params.get('w')) || 1280;
const height = Number(params.get('h')) || 720;

/** Every peer.joined and peer.left this page saw, for tests. */
const events: { name: string; peerId: string; at: number }[] = [];

function setState(state: SessionState, detail?: string): void {
	status.dataset.state = state;
	status.textContent = state === 'connected' ? 'connected' : state === 'reconnecting' ? 'reconnecting...' : state === 'left' ? 'you left' : state;
	status.title = detail ?? '';
}

async function start(): Promise<void> {
	const res = await fetch('/api/dev/token', {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ name, room: roomId }),
	});
	if (!res.ok) {
		throw new Error(`no token: ${res.status}`);
	}
	const { token } = await res.json() as { token: string };
	const signaling = new Signaling(token);
	await signaling.connected();

	const stream = await navigator.mediaDevices.getUserMedia({
		audio: true,
		video: { width: { ideal: width }, height: { ideal: height }, frameRate: { ideal: 30 } },
	});
	const session = new CallSession(signaling, roomId, name, {
		state: setState,
		roster: (peers: PeerInfo[]) => grid.roster(peers, session.peerId),
		peerJoined: (peer: PeerInfo) => {
			events.push({ name: 'peer.joined', peerId: peer.id, at: Date.now() });
			grid.add(peer);
		},
		peerLeft: (peerId: string) => {
			events.push({ name: 'peer.left', peerId, at: Date.now() });
			grid.remove(peerId);
		},
		trackAdded: (track) => grid.addTrack(track),
		trackRemoved: (consumerId) => grid.removeTrack(consumerId),
		activeSpeaker: (peerId) => grid.setActiveSpeaker(peerId),
	});
	const [audio] = stream.getAudioTracks();
	const [video] = stream.getVideoTracks();
	await session.join([
		...(audio ? [{ source: 'mic' as const, track: audio }] : []),
		...(video ? [{ source: 'camera' as const, track: video }] : []),
	]);
	grid.addLocal(session.peerId, name, stream);
	wireControls(session, stream);
	expose(session);
}

function toggle(button: HTMLElement, on: boolean, labels: [string, string]): void {
	button.setAttribute('aria-pressed', String(on));
	button.textContent = on ? labels[1] : labels[0];
}

function wireControls(session: CallSession, stream: MediaStream): void {
	const mute = document.getElementById('mute')!;
	const camera = document.getElementById('camera')!;
	const screen = document.getElementById('screen')!;
	const leave = document.getElementById('leave')!;
	mute.addEventListener('click', () => {
		const muted = mute.getAttribute('aria-pressed') !== 'true';
		toggle(mute, muted, ['Mute', 'Unmute']);
		void session.setPaused('mic', muted);
	});
	camera.addEventListener('click', () => {
		const off = camera.getAttribute('aria-pressed') !== 'true';
		toggle(camera, off, ['Camera off', 'Camera on']);
		for (const track of stream.getVideoTracks()) {
			track.enabled = !off;
		}
		void session.setPaused('camera', off);
	});
	screen.addEventListener('click', async () => {
		if (screen.getAttribute('aria-pressed') === 'true') {
			toggle(screen, false, ['Share screen', 'Stop sharing']);
			await session.unpublish('screen');
			return;
		}
		try {
			const display = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
			const [track] = display.getVideoTracks();
			if (!track) {
				return;
			}
			toggle(screen, true, ['Share screen', 'Stop sharing']);
			track.addEventListener('ended', () => {
				toggle(screen, false, ['Share screen', 'Stop sharing']);
				void session.unpublish('screen');
			});
			await session.publish('screen', track);
		} catch {
			// The user declined to share.
		}
	});
	leave.addEventListener('click', async () => {
		await session.leave();
		grid.roster([], session.peerId);
		for (const button of [mute, camera, screen, leave]) {
			(button as HTMLButtonElement).disabled = true;
		}
	});
}

/** The test hook. */
function expose(session: CallSession): void {
	(window as unknown as { switchyard: unknown }).switchyard = {
		get state() {
			return status.dataset.state;
		},
		get peerId() {
			return session.peerId;
		},
		events,
		consumers: () => [...session.consumers.values()].map(({ consumer, peerId, source }) => ({
			id: consumer.id, kind: consumer.kind, peerId, source, ssrc: consumer.rtpParameters.encodings?.[0]?.ssrc,
		})),
		/** inbound-rtp stats of each consumer, found by its SSRC (not mediasoup's probation stream). */
		stats: async () => {
			const transport = session.recvTransport;
			if (!transport) {
				return [];
			}
			const report = await transport.getStats();
			const inbound = [...report.values()].filter((s: { type: string }) => s.type === 'inbound-rtp');
			return [...session.consumers.values()].map(({ consumer, peerId }) => {
				const ssrc = consumer.rtpParameters.encodings?.[0]?.ssrc;
				const entry = inbound.find((s: { ssrc: number }) => s.ssrc === ssrc) ?? {};
				return {
					consumerId: consumer.id, peerId, kind: consumer.kind, ssrc,
					bytesReceived: entry.bytesReceived ?? 0, framesDecoded: entry.framesDecoded ?? 0,
					frameWidth: entry.frameWidth, qualityLimitationReason: entry.qualityLimitationReason,
				};
			});
		},
		outboundStats: async () => {
			const transport = session.sendTransport;
			return transport ? [...(await transport.getStats()).values()].filter((s: { type: string }) => s.type === 'outbound-rtp') : [];
		},
		dropConnection: () => session.dropConnection(),
		/** The candidate types of each transport's selected pair (host, srflx, relay). */
		candidateTypes: async () => {
			const types: string[] = [];
			for (const transport of [session.sendTransport, session.recvTransport]) {
				if (!transport) {
					continue;
				}
				const report = await transport.getStats();
				const stats = [...report.values()] as { type: string; id: string; selectedCandidatePairId?: string; localCandidateId?: string; candidateType?: string; state?: string; nominated?: boolean }[];
				const pairId = stats.find((s) => s.type === 'transport')?.selectedCandidatePairId;
				const pair = stats.find((s) => s.id === pairId) ?? stats.find((s) => s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated);
				const local = stats.find((s) => s.id === pair?.localCandidateId);
				types.push(local?.candidateType ?? 'none');
			}
			return types;
		},
	};
}

start().catch((error: Error) => {
	setState('failed', error.message);
	console.error('switchyard: could not join', error);
});
