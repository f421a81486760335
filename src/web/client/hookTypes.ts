/**
 * The shape of `window.switchyard`, the room page's hook for tests and
 * debugging. Plain data types with no DOM reference, so the Node side of the
 * browser tests (test/e2e) can import them too.
 */
import type { Source } from '../../signaling/protocol';

export type SessionState = 'connecting' | 'connected' | 'reconnecting' | 'left' | 'failed';

/** How the session came back after a drop or a server request. */
export type Recovery = {
	how: 'restartIce' | 'newTransports' | 'rejoin';
	/** What caused it: "resume", "workerDied", "media failed", ... */
	why: string;
	at: number;
};

export type HookConsumer = {
	id: string;
	producerId: string;
	peerId: string;
	kind: 'audio' | 'video';
	source: Source;
	ssrc: number | undefined;
	paused: boolean;
};

/** A consumer's inbound-rtp entry, found by the consumer's SSRC (never mediasoup's probation SSRC 1234). */
export type InboundStats = {
	consumerId: string;
	peerId: string;
	kind: 'audio' | 'video';
	source: Source;
	ssrc: number | undefined;
	bytesReceived: number;
	framesDecoded: number;
	frameWidth?: number;
	framesDropped?: number;
	freezeCount?: number;
	packetsLost?: number;
	jitter?: number;
};

export type OutboundStats = {
	rid?: string;
	kind?: string;
	mimeType?: string;
	bytesSent: number;
	frameWidth?: number;
	frameHeight?: number;
	framesPerSecond?: number;
	qualityLimitationReason?: string;
	active?: boolean;
};

/** How a remote video is shown, as last reported to the server (consumer.setViewport). */
export type Viewport = { consumerId: string; width: number; height: number; visible: boolean };

export type Box = { left: number; top: number; right: number; bottom: number; width: number; height: number };

/** Where things are on the page, for layout checks. */
export type LayoutReport = {
	viewport: { width: number; height: number };
	tiles: (Box & { peerId: string; name: string; showsVideo: boolean; videoWidth: number })[];
	controls: Box;
	buttons: Box[];
};

/** The options of an RTCRtpScriptTransform: which way, what media, and the id the worker reports it by (a receiver's: its consumer id). */
export type TransformOptions = { side: 'send' | 'recv'; kind: 'audio' | 'video'; id: string };

/** An end-to-end encryption transform's counts since it started (e2ee/worker/frameWorker.ts). */
export type TransformCounts = TransformOptions & {
	/** Frames sealed or opened. */
	frames: number;
	/** Frames dropped: a sender's without a key yet, a receiver's that did not open (or were replayed). */
	dropped: number;
	bytesIn: number;
	bytesOut: number;
	/** Time spent in WebCrypto's encrypt or decrypt, in milliseconds. */
	cryptoMs: number;
};

/** A call's sender keys (e2ee/SenderKeys.ts), as the page shows them. */
export type CallKeysReport = {
	/** The key id this page seals with now (hex), once it has one. */
	sendKid?: string;
	/** The peers whose key this page has. */
	keysFrom: string[];
	safetyCode?: string;
	/** A new device of someone this browser knew. */
	notes: string[];
	/** A known device whose key changed: someone (the server, say) may be in the middle. */
	warnings: string[];
	/** Wrapped keys that did not open (not made by that peer's device for this one). */
	unwrapFailures: number;
};

/**
 * The page's end-to-end encryption: on or not, the consumers whose frames
 * do not open, each transform's counts, and in a call its sender keys.
 */
export type E2eeReport = {
	enabled: boolean;
	undecryptable: string[];
	transforms: TransformCounts[];
	/** When the transforms were counted (ms since the epoch). */
	countsAt: number;
	call?: CallKeysReport;
};

export type HookEvent = { name: 'peer.joined' | 'peer.left'; peerId: string; at: number };

export type SwitchyardHook = {
	readonly state: SessionState;
	/** Every state the page went through, oldest first. */
	readonly states: SessionState[];
	readonly peerId: string;
	/** Every peer.joined and peer.left this page saw. */
	readonly events: HookEvent[];
	readonly recoveries: Recovery[];
	/** The peer ids of tiles removed from the grid, in order (a MutationObserver on it). */
	readonly removedTiles: string[];
	layout(): LayoutReport;
	/** The camera capture's size (the local track's settings). */
	captureSize(): { width?: number; height?: number };
	/** The tracks this page publishes: each one's id, device and producer (a device switch keeps the producer). */
	localTracks(): { source: string; trackId: string; deviceId?: string; readyState: string; producerId?: string }[];
	consumers(): HookConsumer[];
	/** The last viewport reported for each remote video. */
	viewports(): Viewport[];
	stats(): Promise<InboundStats[]>;
	outboundStats(): Promise<OutboundStats[]>;
	/** The receive transport's raw inbound-rtp entries with these SSRCs, consumer or not. */
	inboundBySsrc(ssrcs: number[]): Promise<{ ssrc: number; bytesReceived: number }[]>;
	/** The local transports' ids (send, recv). */
	transportIds(): string[];
	/**
	 * What a lost network looks like: the socket is cut and, unless
	 * `keepTransports`, the local transports are closed too.
	 */
	dropConnection(options?: { keepTransports?: boolean }): void;
	/** The remote ICE username fragment of each transport's selected pair (send, recv): it changes with an ICE restart. */
	remoteIceUfrags(): Promise<(string | undefined)[]>;
	/**
	 * The remote SDP of each transport's RTCPeerConnection (send, recv): what
	 * mediasoup-client wrote from the node's parameters. '' before the first
	 * negotiation, undefined when the transport (or its PeerConnection) is missing.
	 */
	remoteDescriptions(): (string | undefined)[];
	/** The receive transport's remote ICE candidates as its ICE agent knows them (getStats). */
	remoteCandidates(): Promise<{ address?: string; port?: number; protocol?: string }[]>;
	/** The candidate types of each transport's selected pair (host, srflx, relay). */
	candidateTypes(): Promise<string[]>;
	e2ee(): E2eeReport;
	/** End-to-end encryption: seal with another secret's key from now on (as a key change does); resolves once in use. */
	setSecret(secret: string): Promise<void>;
};
