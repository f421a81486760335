/**
 * The room page: takes a dev token, captures microphone and camera, joins,
 * and wires the grid and the controls. `window.switchyard` (hook.ts) is a
 * small hook for tests and debugging.
 *
 * Query parameters: `name` (display name), `w` and `h` (capture size,
 * 1280x720 by default; tests ask for less).
 */
import { CallSession } from './CallSession';
import { capture } from './capture';
import { wireControls } from './controls';
import { Grid } from './Grid';
import { exposeHook, type HookLog } from './hook';
import type { SessionState } from './hookTypes';
import { Signaling } from './signaling';
import { ViewportReporter } from './viewport';

const app = document.getElementById('app')!;
const status = document.getElementById('status')!;
const notice = document.getElementById('notice')!;
let session: CallSession | undefined;
// Each remote video's size and visibility go to the server's layer policy.
const viewports = new ViewportReporter(async (viewport) => session?.setViewport(viewport));
const grid = new Grid(document.getElementById('grid')!, {
	videoShown: (consumerId, element) => viewports.observe(consumerId, element),
	videoGone: (consumerId) => viewports.unobserve(consumerId),
	pinned: (consumerId, pinned) => void session?.setPinned(consumerId, pinned).catch(() => undefined),
});
const roomId = app.dataset.roomId!;
const params = new URLSearchParams(location.search);
const name = (params.get('name') ?? '').trim().slice(0, 64) || 'Guest';
const width = Number(params.get('w')) || 1280;
const height = Number(params.get('h')) || 720;

const log: HookLog = { states: [], events: [], recoveries: [], viewports: viewports.reported };

const LABELS: Record<SessionState, string> = {
	connecting: 'connecting',
	connected: 'connected',
	reconnecting: 'reconnecting…',
	left: 'you left',
	failed: 'disconnected',
};

function setState(state: SessionState, detail?: string): void {
	if (log.states.at(-1) !== state) {
		log.states.push(state);
	}
	status.dataset.state = state;
	status.textContent = LABELS[state];
	status.title = detail ?? '';
	if (state === 'failed') {
		showNotice(`Could not connect${detail ? `: ${detail}` : ''}.`, true, { href: location.href, label: 'Try again' });
	} else if (state === 'connected' && notice.dataset.kind === 'error') {
		notice.hidden = true;
	}
}

function showNotice(text: string, error = false, ...links: { href: string; label: string }[]): void {
	notice.textContent = text;
	for (const link of links) {
		const a = document.createElement('a');
		a.href = link.href;
		a.textContent = link.label;
		notice.append(' ', a);
	}
	notice.dataset.kind = error ? 'error' : 'info';
	notice.hidden = false;
}

async function devToken(): Promise<string> {
	const res = await fetch('/api/dev/token', {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ name, room: roomId }),
	});
	if (res.status === 404) {
		throw new Error('this node does not hand out guest tokens (dev mode is off)');
	}
	if (!res.ok) {
		throw new Error(`no token (HTTP ${res.status})`);
	}
	return ((await res.json()) as { token: string }).token;
}

async function start(): Promise<void> {
	setState('connecting');
	const [token, captured] = await Promise.all([devToken(), capture(width, height)]);
	const { stream } = captured;
	if (captured.problem) {
		showNotice(captured.problem);
	}
	grid.addLocal(name, stream);
	const signaling = new Signaling(token);
	await signaling.whenConnected();
	session = new CallSession(signaling, roomId, name, {
		state: setState,
		joined: (peerId) => grid.setLocalId(peerId),
		roster: (peers) => grid.roster(peers),
		peerJoined: (peer) => {
			log.events.push({ name: 'peer.joined', peerId: peer.id, at: Date.now() });
			grid.add(peer);
		},
		peerLeft: (peerId) => {
			log.events.push({ name: 'peer.left', peerId, at: Date.now() });
			grid.remove(peerId);
		},
		trackAdded: (track) => grid.addTrack(track),
		trackRemoved: (consumerId) => grid.removeTrack(consumerId),
		trackPaused: (consumerId, paused) => grid.setTrackPaused(consumerId, paused),
		activeSpeaker: (peerId) => grid.setActiveSpeaker(peerId),
		recovered: (recovery) => log.recoveries.push(recovery),
	});
	exposeHook(session, log);
	const [audio] = stream.getAudioTracks();
	const [video] = stream.getVideoTracks();
	await session.join([
		...(audio ? [{ source: 'mic' as const, track: audio }] : []),
		...(video ? [{ source: 'camera' as const, track: video }] : []),
	]);
	wireControls(session, grid, stream, () => {
		app.classList.add('left');
		showNotice('You left the call.', false, { href: location.href, label: 'Join again' }, { href: '/', label: 'Lobby' });
	});
	// NOTE: browsers may refuse to autoplay sound before the user touches the page.
	document.addEventListener('click', () => grid.playAll());
}

start().catch((error: Error) => {
	setState('failed', error.message);
	console.error('switchyard: could not join', error);
});
