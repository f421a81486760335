/**
 * The room view: takes a token, captures microphone and camera, joins, and
 * wires the grid and the controls. `window.switchyard` (hook.ts) is a small
 * hook for tests and debugging. Used by the room page (roomPage.ts, a dev
 * token) and by the in-call view of the calling pages (a call's room token).
 * It expects the room markup of pages.ts in the document (#app, #status,
 * #notice, #grid and the controls).
 */
import type { ServerEventData } from '../../signaling/protocol';
import { announce } from './announcer';
import { CallSession } from './CallSession';
import { wireChat } from './chat';
import { capture, type Capture } from './capture';
import { wireConnectionBanner } from './connectionBanner';
import { wireControls } from './controls';
import { wireDevices } from './devicesMenu';
import { ChatSeal } from './e2ee/chatSeal';
import { e2eeProblem, FrameCrypto } from './e2ee/FrameCrypto';
import type { DeviceIdentity } from './e2ee/identity';
import { SenderKeys } from './e2ee/SenderKeys';
import { Grid } from './Grid';
import { wireHands } from './hands';
import { exposeHook, type HookLog } from './hook';
import { wireShortcuts } from './keyboard';
import type { SessionState } from './hookTypes';
import { wireMore } from './morePanel';
import { Participants } from './participants';
import { wireQuality } from './quality';
import { RoomNotices } from './roomNotices';
import { heldText, wireServiceNotices } from './serviceNotices';
import { Signaling } from './signaling';
import { ViewportReporter } from './viewport';

export type RoomOptions = {
	roomId: string;
	/** The display name (the token's name claim wins on the server). */
	name: string;
	/** The camera capture size; the browser tests ask for less than 1280x720. */
	width: number;
	height: number;
	/** False: microphone only (an audio call). */
	video?: boolean;
	/** A token that may join `roomId`. */
	token(): Promise<string>;
	/**
	 * A fresh token for a reconnection, so a session outlives its first
	 * token's expiry; without it, or when it fails, the last token is reused.
	 */
	renewToken?(): Promise<string>;
	/** After the Leave button left the room; by default a notice with links to join again and to the lobby. */
	onLeft?(): void;
	/** After the server put this participant out of the room (room.removed); by default a notice. */
	onRemoved?(reason: ServerEventData<'room.removed'>['reason']): void;
	/** "Try again" after a failure: by default this page's address; null for no link (a call cannot be joined again). */
	retryHref?: string | null;
	/**
	 * End-to-end encryption with this shared secret (a guest room link's
	 * `#e2ee=`): every frame is sealed and opened in this browser; a browser
	 * that cannot is refused, never joined in the clear.
	 */
	e2eeSecret?: string;
	/**
	 * A call between accounts: end-to-end encrypted with sender keys, this
	 * account's handle and this browser's device (SenderKeys.ts).
	 */
	callDevice?: { handle: string; device: DeviceIdentity };
	/** Tiles say who is a guest and who an account (its handle and verified mark): a call link's room. */
	markGuests?: boolean;
	/** What the notice says of a shared secret's encryption; by default how to invite people to a guest room. */
	e2eeNotice?: string;
	/** The camera and microphone to capture from (any other when one is gone), and the speaker the call plays on. */
	devices?: { cameraId?: string; micId?: string; speakerId?: string };
	/** Join with the microphone muted and / or the camera off: captured, but their producers start paused. */
	startMuted?: { mic?: boolean; camera?: boolean };
	/** Join without asking for camera or microphone: the person chose to only watch (the pre-join screen's way past a refusal). */
	watchOnly?: boolean;
};

/** What the room captures for `options`: nothing for a watcher, else the chosen devices. */
function captureFor(options: RoomOptions): Promise<Capture> {
	if (options.watchOnly) {
		return Promise.resolve({ stream: new MediaStream(), problem: 'You joined to watch only: no camera or microphone.' });
	}
	const { cameraId, micId } = options.devices ?? {};
	return capture(options.width, options.height, { video: options.video ?? true, cameraId, micId });
}

/** A tile's name where guests and accounts meet: "Ada (guest)", "Bob @bob ✓". */
export function guestOrAccount(peer: { displayName: string; handle?: string; verified?: boolean }): string {
	return peer.handle ? `${peer.displayName} @${peer.handle}${peer.verified ? ' ✓' : ''}` : `${peer.displayName} (guest)`;
}

/** What the page says when the server put this participant out (room.removed). */
const REMOVED: Record<ServerEventData<'room.removed'>['reason'], string> = {
	hangup: 'You hung up.',
	callEnded: 'The call ended.',
	removed: 'You were removed from this room.',
	roomEnded: 'This room was ended.',
};

const LABELS: Record<SessionState, string> = {
	connecting: 'connecting',
	connected: 'connected',
	reconnecting: 'reconnecting…',
	left: 'you left',
	failed: 'disconnected',
};

/** Joins the room; resolves with the session once joined (reject: the page already shows the failure). */
export async function startRoom(options: RoomOptions): Promise<CallSession> {
	const app = document.getElementById('app')!;
	const status = document.getElementById('status')!;
	const notice = document.getElementById('notice')!;
	let session: CallSession | undefined;
	// Each remote video's size and visibility go to the server's layer policy.
	const viewports = new ViewportReporter(async (viewport) => session?.setViewport(viewport));
	const { roomId, name } = options;
	const label = options.markGuests ? { label: guestOrAccount } : {};
	const grid: Grid = new Grid(document.getElementById('grid')!, {
		videoShown: (consumerId, element) => viewports.observe(consumerId, element),
		videoGone: (consumerId) => viewports.unobserve(consumerId),
		pinned: (consumerId, pinned) => void session?.setPinned(consumerId, pinned).catch(() => undefined),
		changed: (peerId, change) => people.changed(peerId, change),
		...label,
	});
	const more = wireMore(grid);
	const people = new Participants(document.getElementById('people-list')!, name, { ...label, pin: (peerId, pinned) => grid.pin(peerId, pinned), count: more.count });
	let banner: ReturnType<typeof wireConnectionBanner> | undefined;
	/** What a screen reader hears of the call: who joins, leaves, speaks. */
	const notices = new RoomNotices(announce, { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (timer) => clearTimeout(timer as number) });
	const log: HookLog = { states: [], events: [], recoveries: [], viewports: viewports.reported };
	/** End-to-end encryption: the consumers whose frames do not open with this page's key. */
	const undecryptable = new Set<string>();
	let peerId = '';
	/** End-to-end encryption: the chat seals with keys derived from the frames' (chatSeal.ts). */
	const chatSeal = options.e2eeSecret !== undefined || options.callDevice !== undefined ? new ChatSeal(options.roomId, () => peerId) : undefined;

	function setState(state: SessionState, detail?: string): void {
		if (log.states.at(-1) !== state) {
			log.states.push(state);
		}
		status.dataset.state = state;
		status.textContent = LABELS[state];
		status.title = detail ?? '';
		banner?.state(state);
		if (state === 'failed') {
			const retry = options.retryHref === null ? [] : [{ href: options.retryHref ?? location.href, label: 'Try again' }];
			showNotice(`Could not connect${detail ? `: ${detail}` : ''}.`, true, ...retry);
		} else if (state === 'connected' && notice.dataset.kind === 'error') {
			notice.hidden = true;
		}
	}

	function showNotice(text: string, error = false, ...links: { href: string; label: string }[]): void {
		notice.textContent = text;
		delete notice.dataset.from;
		for (const link of links) {
			const a = document.createElement('a');
			a.href = link.href;
			a.textContent = link.label;
			notice.append(' ', a);
		}
		notice.dataset.kind = error ? 'error' : 'info';
		notice.hidden = false;
	}

	/** The room's encryption (frames sealed and opened here), or undefined for a room without. */
	async function encryption(): Promise<FrameCrypto | undefined> {
		if (options.e2eeSecret === undefined && options.callDevice === undefined) {
			return undefined;
		}
		const problem = e2eeProblem();
		if (problem) {
			throw new Error(problem);
		}
		const frameCrypto = new FrameCrypto(roomId, {
			receiver: (consumerId, state) => {
				if (state === 'undecryptable') {
					undecryptable.add(consumerId);
				} else {
					undecryptable.delete(consumerId);
				}
				grid.setUndecryptable(consumerId, state === 'undecryptable');
				// Frames open (first, or again: the key came): a key frame now, since the one the sender made may
				// have been dropped here before this page had its key, and the sender makes no other unasked.
				if (state === 'decrypting') {
					void session?.requestKeyFrames([consumerId]);
				}
			},
			keyChanged: () => void session?.requestKeyFrames(),
			keys: (message) => chatSeal?.take(message),
		});
		if (options.e2eeSecret !== undefined) {
			await frameCrypto.setSecret(options.e2eeSecret);
		}
		log.e2ee = { crypto: frameCrypto, undecryptable };
		return frameCrypto;
	}

	/** The safety code in the bar; a warning or a note as the notice. */
	function showKeys({ safetyCode, notes, warnings }: { safetyCode?: string; notes: string[]; warnings: string[] }): void {
		const safety = document.getElementById('safety');
		if (safety && safetyCode) {
			safety.hidden = false;
			document.getElementById('safety-code')!.textContent = safetyCode;
		}
		if (warnings.length > 0) {
			showNotice(warnings.join('. ') + '.', true);
			notice.dataset.kind = 'warning';
		} else if (notes.length > 0) {
			showNotice(notes.join('. ') + ': compare the safety code with them.');
		}
	}

	async function start(): Promise<CallSession> {
		setState('connecting');
		const e2ee = await encryption();
		const [token, captured] = await Promise.all([options.token(), captureFor(options)]);
		const { stream } = captured;
		if (captured.problem) {
			showNotice(captured.problem);
		}
		grid.addLocal(name, stream);
		if (options.devices?.speakerId) {
			grid.setSpeaker(options.devices.speakerId);
		}
		let current = token;
		let connections = 0;
		const signaling = new Signaling(async () => {
			if (connections++ > 0 && options.renewToken) {
				current = await options.renewToken().catch(() => current);
			}
			return current;
		});
		await signaling.whenConnected();
		banner = wireConnectionBanner(document.getElementById('conn-banner')!, signaling);
		const keys = e2ee && options.callDevice ? new SenderKeys(e2ee, signaling, roomId, options.callDevice, showKeys) : undefined;
		if (keys) {
			log.e2ee!.keys = keys;
		}
		session = new CallSession(signaling, roomId, name, {
			state: (state, detail) => {
				if (state === 'left') {
					keys?.close();
					notices.close();
				}
				setState(state, detail);
			},
			joined: (id) => {
				peerId = id;
				grid.setLocalId(id);
				people.setLocalId(id);
				notices.setLocalId(id);
			},
			roster: (peers) => {
				keys?.roster(peerId, peers);
				people.roster(peers);
				grid.roster(peers);
				notices.roster(peers);
				peers.forEach((peer) => grid.setHand(peer.id, peer.handRaised === true));
			},
			peerJoined: (peer) => {
				log.events.push({ name: 'peer.joined', peerId: peer.id, at: Date.now() });
				keys?.peerJoined(peer);
				people.add(peer);
				grid.add(peer);
				notices.joined(peer);
				grid.setHand(peer.id, peer.handRaised === true);
			},
			peerLeft: (id) => {
				log.events.push({ name: 'peer.left', peerId: id, at: Date.now() });
				keys?.peerLeft(id);
				people.remove(id);
				grid.remove(id);
				notices.left(id);
			},
			trackAdded: (track) => grid.addTrack(track),
			trackRemoved: (consumerId) => {
				undecryptable.delete(consumerId);
				grid.removeTrack(consumerId);
			},
			trackPaused: (consumerId, paused) => grid.setTrackPaused(consumerId, paused),
			activeSpeaker: (speaker) => {
				grid.setActiveSpeaker(speaker);
				people.setSpeaking(speaker);
				notices.speaker(speaker);
			},
			recovered: (recovery) => log.recoveries.push(recovery),
			removed: (reason) => {
				app.classList.add('left');
				if (options.onRemoved) {
					options.onRemoved(reason);
				} else {
					showNotice(REMOVED[reason]);
				}
			},
		}, e2ee);
		exposeHook(session, log);
		const [audio] = stream.getAudioTracks();
		const [video] = stream.getVideoTracks();
		// NOTE: before the join: the consumers of those already here are offered during it.
		wireQuality(signaling, grid);
		await session.join([
			...(audio ? [{ source: 'mic' as const, track: audio, paused: options.startMuted?.mic }] : []),
			...(video ? [{ source: 'camera' as const, track: video, paused: options.startMuted?.camera }] : []),
		]);
		// NOTE: shown only now: every track this page sends or receives goes through the encryption.
		const badge = document.getElementById('e2ee')!;
		badge.hidden = e2ee === undefined;
		if (keys) {
			badge.title = 'Only the people in this call can see and hear it: each device encrypts with keys the server never has';
		}
		if (e2ee && !captured.problem && !keys) {
			showNotice(options.e2eeNotice ?? 'End-to-end encrypted: invite people with this page\'s full address, including the part after #. Anyone with it can join; the server cannot see or hear the call.');
		}
		const fromService = (text: string): void => {
			showNotice(text);
			notice.dataset.from = 'service';
		};
		const controls = wireControls(session, grid, stream, options.onLeft ?? (() => {
			app.classList.add('left');
			showNotice('You left the call.', false, { href: location.href, label: 'Join again' }, { href: '/', label: 'Lobby' });
		}), (source) => fromService(heldText(source)));
		wireServiceNotices(signaling, { show: fromService, hold: (source, held) => controls.hold(source, held) });
		wireHands(signaling, grid, () => peerId, (text) => showNotice(text, true));
		wireChat(signaling, chatSeal);
		wireDevices(session, grid, { width: options.width, height: options.height });
		wireShortcuts();
		// NOTE: browsers may refuse to autoplay sound before the user touches the page.
		document.addEventListener('click', () => grid.playAll());
		return session;
	}

	return start().catch((error: Error) => {
		setState('failed', error.message);
		console.error('switchyard: could not join', error);
		throw error;
	});
}
