import type { types as msc } from 'mediasoup-client';
import type { CallSession } from './CallSession';
import type { FrameCrypto } from './e2ee/FrameCrypto';
import type { SenderKeys } from './e2ee/SenderKeys';
import type { Box, HookEvent, InboundStats, LayoutReport, OutboundStats, Recovery, SessionState, SwitchyardHook, Viewport } from './hookTypes';

type Stat = Record<string, unknown> & { type: string; id: string };

async function statsOf(transport: { getStats(): Promise<RTCStatsReport> } | undefined): Promise<Stat[]> {
	return transport ? [...(await transport.getStats()).values()] as Stat[] : [];
}

/**
 * The transport's RTCPeerConnection. NOTE: mediasoup-client keeps it private
 * (its handler's `_pc`); only this test hook reads it, and only to look.
 */
function peerConnectionOf(transport: msc.Transport | undefined): RTCPeerConnection | undefined {
	return (transport?.handler as unknown as { _pc?: RTCPeerConnection } | undefined)?._pc;
}

function box(element: Element): Box {
	const { left, top, right, bottom, width, height } = element.getBoundingClientRect();
	return { left, top, right, bottom, width, height };
}

function layout(): LayoutReport {
	return {
		viewport: { width: innerWidth, height: innerHeight },
		tiles: [...document.querySelectorAll<HTMLElement>('#grid .tile')].map((tile) => {
			const video = tile.querySelector('video')!;
			return {
				...box(tile),
				peerId: tile.dataset.peerId ?? '',
				name: tile.querySelector('.name')?.textContent ?? '',
				showsVideo: tile.classList.contains('has-video') && getComputedStyle(video).visibility === 'visible',
				videoWidth: video.readyState >= 2 ? video.videoWidth : 0,
			};
		}),
		controls: box(document.querySelector('.controls')!),
		buttons: [...document.querySelectorAll('.controls button')].map(box),
	};
}

/** Records the peer ids of tiles removed from the grid. */
function watchRemovals(): string[] {
	const removed: string[] = [];
	new MutationObserver((records) => {
		for (const record of records) {
			for (const node of record.removedNodes) {
				if (node instanceof HTMLElement && node.dataset.peerId) {
					removed.push(node.dataset.peerId);
				}
			}
		}
	}).observe(document.getElementById('grid')!, { childList: true });
	return removed;
}

/** What the page records for the hook. */
export type HookLog = {
	states: SessionState[]; events: HookEvent[]; recoveries: Recovery[]; viewports?: ReadonlyMap<string, Viewport>;
	/** End-to-end encryption, when the room has it: the page's FrameCrypto and the consumers whose frames do not open. */
	e2ee?: { crypto: FrameCrypto; undecryptable: ReadonlySet<string>; keys?: SenderKeys };
};

/**
 * `window.switchyard`: the room page's hook for tests and debugging. It reads
 * the session and the transports' getStats(); it changes nothing but what
 * dropConnection() cuts.
 */
export function exposeHook(session: CallSession, log: HookLog): void {
	const hook: SwitchyardHook = {
		get state() {
			return log.states.at(-1) ?? 'connecting';
		},
		states: log.states,
		get peerId() {
			return session.peerId;
		},
		events: log.events,
		recoveries: log.recoveries,
		removedTiles: watchRemovals(),
		layout,
		captureSize: () => {
			const track = session.local.get('camera')?.track;
			const { width, height } = track?.getSettings() ?? {};
			return { width, height };
		},
		localTracks: () => [...session.local.values()].map(({ source, track, producer }) => ({
			source, trackId: track.id, deviceId: track.getSettings().deviceId, readyState: track.readyState, producerId: producer?.id,
		})),
		consumers: () => [...session.consumers.values()].map(({ consumer, peerId, source, paused }) => ({
			id: consumer.id,
			producerId: consumer.producerId,
			peerId,
			kind: consumer.kind,
			source,
			ssrc: consumer.rtpParameters.encodings?.[0]?.ssrc,
			paused,
		})),
		viewports: () => [...(log.viewports?.values() ?? [])],
		stats: async () => {
			const inbound = (await statsOf(session.recvTransport)).filter((s) => s.type === 'inbound-rtp');
			return [...session.consumers.values()].map(({ consumer, peerId, source }): InboundStats => {
				const ssrc = consumer.rtpParameters.encodings?.[0]?.ssrc;
				// NOTE: by SSRC: Chrome also lists mediasoup's probation stream (SSRC 1234).
				const entry: Record<string, unknown> = inbound.find((s) => s.ssrc === ssrc) ?? {};
				const n = (key: string) => entry[key] as number | undefined;
				return {
					consumerId: consumer.id, peerId, kind: consumer.kind, source, ssrc,
					bytesReceived: n('bytesReceived') ?? 0, framesDecoded: n('framesDecoded') ?? 0,
					frameWidth: n('frameWidth'), framesDropped: n('framesDropped'), freezeCount: n('freezeCount'),
					packetsLost: n('packetsLost'), jitter: n('jitter'),
				};
			});
		},
		outboundStats: async () => {
			const stats = await statsOf(session.sendTransport);
			return stats.filter((s) => s.type === 'outbound-rtp').map((s): OutboundStats => ({
				rid: s.rid as string | undefined,
				kind: s.kind as string | undefined,
				mimeType: stats.find((c) => c.id === s.codecId)?.mimeType as string | undefined,
				bytesSent: (s.bytesSent as number | undefined) ?? 0,
				frameWidth: s.frameWidth as number | undefined,
				frameHeight: s.frameHeight as number | undefined,
				framesPerSecond: s.framesPerSecond as number | undefined,
				qualityLimitationReason: s.qualityLimitationReason as string | undefined,
				active: s.active as boolean | undefined,
			}));
		},
		inboundBySsrc: async (ssrcs) => (await statsOf(session.recvTransport))
			.filter((s) => s.type === 'inbound-rtp' && ssrcs.includes(s.ssrc as number))
			.map((s) => ({ ssrc: s.ssrc as number, bytesReceived: (s.bytesReceived as number | undefined) ?? 0 })),
		transportIds: () => [session.sendTransport?.id ?? '', session.recvTransport?.id ?? ''],
		dropConnection: (options) => session.dropConnection(options),
		remoteIceUfrags: async () => Promise.all([session.sendTransport, session.recvTransport].map(async (transport) => {
			const stats = await statsOf(transport);
			const pairId = stats.find((s) => s.type === 'transport')?.selectedCandidatePairId;
			const pair = stats.find((s) => s.id === pairId);
			return stats.find((s) => s.id === pair?.remoteCandidateId)?.usernameFragment as string | undefined;
		})),
		remoteDescriptions: () => [session.sendTransport, session.recvTransport].map((transport) => {
			const pc = peerConnectionOf(transport);
			return pc ? (pc.remoteDescription?.sdp ?? '') : undefined;
		}),
		remoteCandidates: async () => {
			const stats = await statsOf(session.recvTransport);
			return stats.filter((s) => s.type === 'remote-candidate').map((s) => ({
				address: (s.address ?? s.ip) as string | undefined,
				port: s.port as number | undefined,
				protocol: s.protocol as string | undefined,
			}));
		},
		e2ee: () => ({
			enabled: log.e2ee !== undefined,
			undecryptable: [...(log.e2ee?.undecryptable ?? [])],
			transforms: [...(log.e2ee?.crypto.counts ?? [])],
			countsAt: log.e2ee?.crypto.countsAt ?? 0,
			...(log.e2ee?.keys ? { call: { ...log.e2ee.keys.report } } : {}),
		}),
		setSecret: async (secret) => {
			if (!log.e2ee) {
				throw new Error('this room is not end-to-end encrypted');
			}
			await log.e2ee.crypto.setSecret(secret);
		},
		candidateTypes: async () => {
			const types: string[] = [];
			for (const transport of [session.sendTransport, session.recvTransport]) {
				if (!transport) {
					continue;
				}
				const stats = await statsOf(transport);
				const pairId = stats.find((s) => s.type === 'transport')?.selectedCandidatePairId;
				const pair = stats.find((s) => s.id === pairId) ?? stats.find((s) => s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated);
				const local = stats.find((s) => s.id === pair?.localCandidateId);
				types.push((local?.candidateType as string | undefined) ?? 'none');
			}
			return types;
		},
	};
	(window as unknown as { switchyard: SwitchyardHook }).switchyard = hook;
}
